"""Which delete prompts have been answered, so two clicks on one prompt delete once."""

import threading
import time


class Confirmations:
    """Claims held in this process's memory.

    Good for one process (the Procfile runs one web process with threads). A prompt's buttons
    carry its nonce; the first click to claim it wins, every later click is told it was answered.
    """

    def __init__(self, ttl_seconds: float):
        self._ttl = ttl_seconds
        self._claimed: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, nonce: str) -> bool:
        now = time.monotonic()
        with self._lock:
            self._forget_older_than(now - 2 * self._ttl)
            if nonce in self._claimed:
                return False
            self._claimed[nonce] = now
            return True

    def release(self, nonce: str) -> None:
        """Give a claim back, when the delete was certainly not sent and may be tried again."""
        with self._lock:
            self._claimed.pop(nonce, None)

    def _forget_older_than(self, cutoff: float) -> None:
        # An expired prompt is refused by its own timestamp, so its claim is no longer needed.
        for nonce in [n for n, at in self._claimed.items() if at < cutoff]:
            del self._claimed[nonce]
