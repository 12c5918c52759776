"""A real gunicorn serving the site from a database file of its own, for attacks that need
real parallel requests (several processes and threads), as an attacker would send them."""

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # seconds for any child process


def site_env(tmp: Path, moto_url: str, prefix: str) -> dict:
    """The environment of every process of one site: production settings, its own SQLite
    file and media, queues on the moto server under `prefix`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "CLOUDSITE_", "AWS_", "DATABASE_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "cloudsite.settings",
        "DJANGO_SECRET_KEY": "test-only-gunicorn-secret-key",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp / 'site.sqlite3'}",
        "CLOUDSITE_MEDIA_ROOT": str(tmp / "media"),
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "CLOUDSITE_QUEUE_PREFIX": prefix,
        "PYTHONUNBUFFERED": "1",
    })
    return env


def manage(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=True)
    return done.stdout


def prepare(env: dict) -> None:
    manage(env, "migrate", "--noinput")
    manage(env, "setup_aws")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict, log_path: Path | None = None, *args: str, **settings):
    """Serve the site (two processes of 16 threads) with extra settings; yield its URL."""
    port = free_port()
    env = {**env, **{key: str(value) for key, value in settings.items()}}
    command = [sys.executable, "-m", "gunicorn", "cloudsite.wsgi:application",
               "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "16",
               "--worker-class", "gthread", "--timeout", "60", *args]
    log = open(log_path or os.devnull, "w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "gunicorn exited"
            try:
                httpx.get(f"{url}/api/v1/openapi.json", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        log.close()
