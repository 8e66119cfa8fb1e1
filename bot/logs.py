"""Logging for the entry points. Modules only ever call `logging.getLogger(__name__)`.

`LOG_FORMAT=json` writes one JSON object a line, for log drains; keys passed with `extra=` (the
command's verb, account, user, outcome, duration, upstream calls) become fields of their own.
"""

import logging

from pythonjsonlogger.json import JsonFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HANDLER_NAME = "profiles-bot"


class RefusedRequestFilter(logging.Filter):
    """Bolt logs a wrongly signed request with its whole body (its response_url, its text).

    Keep the fact and drop the body: whoever sent it, the log is no place for it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = ("refused a request with 401: invalid signature or stale timestamp "
                      "(check SLACK_SIGNING_SECRET and the server's clock)")
        record.args = ()
        return True


def configure(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s",
                                           rename_fields={"levelname": "level"}))
    else:
        handler.setFormatter(logging.Formatter(FORMAT))
    handler.set_name(HANDLER_NAME)
    root = logging.getLogger()
    # Replace our own handler when called again; leave anyone else's (a test's capture) alone.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != HANDLER_NAME] + [handler]

    # At DEBUG, slack_sdk logs every response_url and message body it sends and Bolt every ack's
    # body: payloads. Bolt also copies the root's level onto its loggers when an app is built, so
    # a level set on `slack_bolt` alone would not hold. Hence only the bot's own modules go below
    # INFO, and the root, with every library under it, stays at INFO or above.
    wanted = logging.getLevelNamesMapping()[level.upper()]
    floor = max(wanted, logging.INFO)
    root.setLevel(floor)
    logging.getLogger("bot").setLevel(wanted if wanted < logging.INFO else logging.NOTSET)
    for library in ("slack_sdk", "slack_bolt"):
        logging.getLogger(library).setLevel(floor)
    # urllib3 logs every retry with the full URL; ours is shorter and says the same.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
