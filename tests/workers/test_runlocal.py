"""`manage.py runlocal` as `make run` starts it: its children end with it, whatever ends it,
and jobs left unfinished by the last run are done soon after the next start."""

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def runlocal_env(tmp_path: Path) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "CLOUDSITE_", "DJANGO_", "DATABASE_URL"))}
    return {**env, "DJANGO_SETTINGS_MODULE": "cloudsite.settings",
            "DJANGO_SECRET_KEY": "test-only", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "CLOUDSITE_MEDIA_ROOT": str(tmp_path / "media"), "PYTHONUNBUFFERED": "1"}


def manage(env: dict, *argv: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=True, **kwargs)


def start_runlocal(env: dict, port: int, log: Path) -> subprocess.Popen:
    # Its own process group, as `make run` has in a terminal.
    process = subprocess.Popen([sys.executable, "manage.py", "runlocal", "--port", str(port)],
                               cwd=ROOT, env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            assert process.poll() is None, log.read_text()
            time.sleep(0.25)
    stop(process)
    pytest.fail(f"runlocal did not serve within 90 s:\n{log.read_text()}")


def children_of(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGKILL])
def test_no_child_outlives_runlocal(tmp_path, sig):
    """SIGHUP (the terminal closed) to the process group, or SIGKILL to runlocal alone."""
    log = tmp_path / "runlocal.log"
    process = start_runlocal(runlocal_env(tmp_path), free_port(), log)
    try:
        children = children_of(process.pid)
        assert len(children) >= 3  # two workers and the reconciler
        if sig == signal.SIGHUP:
            os.killpg(process.pid, sig)
        else:
            process.kill()
        process.wait(timeout=60)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(map(alive, children)):
            time.sleep(0.2)
        left = [pid for pid in children if alive(pid)]
        assert not left, log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        for pid in children_of(process.pid) if alive(process.pid) else ():
            os.kill(pid, signal.SIGKILL)
        stop(process)


def test_a_job_left_queued_is_done_within_seconds_of_the_next_start(tmp_path):
    env = runlocal_env(tmp_path)
    manage(env, "migrate", "--verbosity", "0")
    job_id = uuid.uuid4().hex
    # A job the last run sent to its emulator, which is gone with its messages.
    with sqlite3.connect(tmp_path / "db.sqlite3") as db:
        db.execute(
            "INSERT INTO calc_calcjob (id, status, owner, created_at, sent_at, sends, "
            "worker, error, retries, last_error, reply_token_hash, client, numbers, log_key) "
            "VALUES (?, 'queued', 'test', datetime('now'), datetime('now'), 1, '', '', 0, "
            "'', '', '', ?, '')", (job_id, json.dumps([4, 8, 15, 16, 23, 42])))
    log = tmp_path / "runlocal.log"
    process = start_runlocal(env, free_port(), log)
    try:
        started = time.monotonic()
        status = "queued"
        while time.monotonic() - started < 30 and status != "done":
            time.sleep(0.25)
            with sqlite3.connect(tmp_path / "db.sqlite3") as db:
                status, result = db.execute("SELECT status, result FROM calc_calcjob "
                                            "WHERE id = ?", (job_id,)).fetchone()
        assert status == "done", log.read_text()
        assert json.loads(result)["median"] == 15.5
        assert "calc: sent 1 unfinished jobs again" in log.read_text()
    finally:
        stop(process)
