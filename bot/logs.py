"""Logging for the entry points. Modules only ever call `logging.getLogger(__name__)`."""

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
    # urllib3 logs every retry with the full URL; ours is shorter and says the same.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
