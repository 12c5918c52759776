"""Logging filters for settings.LOGGING."""

import logging


class WarningWithoutTraceback(logging.Filter):
    """Log the record as one WARNING line: for a request's fault (a bad Host header),
    which is no error of the site's and whose traceback tells nobody anything."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info = record.exc_text = record.stack_info = None
        return True
