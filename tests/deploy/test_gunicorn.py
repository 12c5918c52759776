"""deploy/gunicorn.conf.py served for real: keep-alive, and the access log with the request id."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "deploy" / "gunicorn.conf.py"
GUNICORN = Path(sys.executable).parent / "gunicorn"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    port, log = free_port(), tmp_path / "access.log"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DJANGO_SECRET_KEY": "k" * 50,
           "DJANGO_SETTINGS_MODULE": "cloudsite.settings", "CLOUDSITE_QUEUE_PREFIX": "",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    # The file's settings, with the bind and the log path moved into this test's reach.
    server = subprocess.Popen(
        [str(GUNICORN), "cloudsite.wsgi", "--config", str(CONFIG), "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", str(log)],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no gunicorn"
                time.sleep(0.2)
        yield port, log
    finally:
        server.terminate()
        server.communicate(timeout=30)


def logged(log: Path, text: str) -> str:
    """The access log once it holds `text` (gunicorn writes it after answering)."""
    deadline = time.monotonic() + 10
    while not log.exists() or text not in log.read_text():
        assert time.monotonic() < deadline, "no access log line"
        time.sleep(0.1)
    return log.read_text()


def test_the_access_log_carries_the_load_balancers_request_id(served):
    port, log = served
    trace = "Root=1-67891233-abcdef012345678912345678"
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={
        "X-Amzn-Trace-Id": trace, "X-Forwarded-For": "203.0.113.7"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    (line,) = [line for line in logged(log, "healthz").splitlines() if "/healthz" in line]
    assert line.startswith("203.0.113.7 ") and '"GET /healthz HTTP/1.1" 200' in line
    assert line.endswith(f"request_id={trace}")


def test_the_config_keeps_idle_connections_longer_than_the_load_balancer():
    config = {}
    exec(CONFIG.read_text(), config)  # noqa: S102 (our own config file)
    assert config["keepalive"] > 60  # the ALB's idle_timeout.timeout_seconds
    result = subprocess.run([str(GUNICORN), "--check-config", "--config", str(CONFIG),
                             "cloudsite.wsgi"], cwd=REPO, capture_output=True, text=True,
                            timeout=60, env={"PATH": os.environ["PATH"],
                                             "DJANGO_SECRET_KEY": "k" * 50})
    assert result.returncode == 0, result.stderr


def test_the_access_log_of_the_config_leaves_tokens_out(served):
    # The config names the redacting logger (cloudsite/accesslog.py): a token sent in the
    # query string, refused by the API, must not reach the access log either.
    port, log = served
    secret = "cs_" + "S" * 43
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz?token={secret}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    text = logged(log, "healthz")
    assert "/healthz?token=[redacted]" in text and secret not in text
