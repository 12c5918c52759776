"""Issue 17 row 12: a token sent in the query string (refused by the API) was written to
gunicorn's access log. Served with cloudsite.accesslog.RedactingLogger, it is not."""

import uuid

import httpx
import pytest

from cloudsite.accesslog import redact
from tests.security.gunicorn_site import gunicorn, prepare, site_env

TOKEN = "cs_" + "Q" * 43


@pytest.mark.parametrize(("line", "kept"), [
    (f"GET /api/v1/jobs?token={TOKEN} HTTP/1.1", "GET /api/v1/jobs?token=[redacted] HTTP/1.1"),
    ("GET /x?a=1&access_token=abc&b=2 HTTP/1.1", "GET /x?a=1&access_token=[redacted]&b=2 HTTP/1.1"),
    ("GET /x?API_KEY=abc HTTP/1.1", "GET /x?API_KEY=[redacted] HTTP/1.1"),
    (f"GET /x/{TOKEN}/y HTTP/1.1", "GET /x/[redacted]/y HTTP/1.1"),
    ("GET /calc/?numbers=1+2 HTTP/1.1", "GET /calc/?numbers=1+2 HTTP/1.1"),
])
def test_redact(line, kept):
    assert redact(line) == kept


def test_gunicorn_logs_no_token(moto_server, tmp_path):
    env = site_env(tmp_path, moto_server, f"l{uuid.uuid4().hex[:8]}-")
    prepare(env)
    log = tmp_path / "access.log"
    with gunicorn(env, tmp_path / "gunicorn.log", "--logger-class",
                  "cloudsite.accesslog.RedactingLogger", "--access-logfile", str(log),
                  "--access-logformat", '%(r)s %(s)s "%(f)s" "%({authorization}i)s"') as url:
        answer = httpx.get(f"{url}/api/v1/jobs?token={TOKEN}", timeout=30,
                           headers={"Referer": f"{url}/?access_token={TOKEN}",
                                    "Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 401
    written = log.read_text()
    assert "GET /api/v1/jobs?token=[redacted] HTTP/1.1 401" in written
    assert TOKEN not in written
