"""gunicorn's access log, with secrets taken out (issue 17).

The API refuses a token sent in the query string, but gunicorn logs the request line
before anyone looks at it; a token in a Referer or an Authorization header logged by a
custom format would be as bad. Serve with

    gunicorn --logger-class cloudsite.accesslog.RedactingLogger ...

and every access-log atom (request line, path, query, referer, headers) has the values
of query parameters that name a secret, and anything shaped like a CloudSite token,
replaced by `[redacted]`; the Authorization, Cookie and Set-Cookie headers are dropped.
"""

import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
# A query parameter whose name says it carries a secret: token, access_token, api_key,
# key, password, secret, auth, signature (case-insensitive).
SECRET_PARAMETER = re.compile(
    r"(?i)((?:^|[?&;])[^=&;\s]*(?:token|key|secret|password|passwd|auth|signature)"
    r"[^=&;\s]*=)[^&;\s\"]*")
# A CloudSite API token wherever it appears (cloudsite.models.PREFIX + 43 characters).
RAW_TOKEN = re.compile(r"cs_[A-Za-z0-9_-]{8,}")
SECRET_HEADERS = ("{authorization}i", "{cookie}i", "{set-cookie}o", "{proxy-authorization}i",
                  "{http_authorization}e", "{http_cookie}e")


def redact(value: str) -> str:
    return RAW_TOKEN.sub(REDACTED, SECRET_PARAMETER.sub(r"\1" + REDACTED, value))


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if isinstance(value, str):
                atoms[name] = redact(value)
        for name in SECRET_HEADERS:
            if name in atoms:
                atoms[name] = REDACTED
        return atoms
