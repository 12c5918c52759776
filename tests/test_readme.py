"""The README's code blocks, run as written against a live `make run`, so they cannot drift.

A fresh checkout is imitated in a temporary folder: the Makefile, the requirement files
and manage.py, a `.venv/bin` whose `python` and `cloudsite` are this test's interpreter
and this checkout's client, `.secret_key` as `make run` leaves it, and no
DJANGO_SECRET_KEY anywhere (manage.py must find the key by itself). The only change to
the commands: port 8000 becomes a free one (`make run PORT=…`, as the README says).
"""

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
MAKE, BASH = shutil.which("make"), shutil.which("bash")


def code_blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", README, re.DOTALL)


def commands(block: str) -> list[str]:
    """Each command of a block: continuation lines joined, comments kept (bash skips them)."""
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def checkout(folder: Path) -> dict:
    """The folder a newcomer would have after `git clone` and a first `make run`."""
    for name in ("Makefile", "manage.py", "requirements.txt", "requirements-dev.txt",
                 "client/pyproject.toml"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, folder / name)
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} \"$@\"\n")
    (bin_dir / "cloudsite").write_text(
        f"#!/bin/sh\nPYTHONPATH={shlex.quote(str(ROOT / 'client'))} "
        f"exec {shlex.quote(sys.executable)} -m cloudsite_client \"$@\"\n")
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    # Installed already: the stamps are newer than the files they stand for.
    for stamp in (".installed-run", ".installed-dev"):
        (folder / ".venv" / stamp).touch()
    (folder / ".secret_key").write_text("a-key-make-run-made-for-this-test\n")
    Image.radial_gradient("L").convert("RGB").resize((320, 240)).save(folder / "photo.jpg")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "CLOUDSITE_", "DJANGO_", "DATABASE_URL", "MAKE"))}
    env.pop("PYTHONUNBUFFERED", None)  # the suite must not depend on it
    return {**env, "PYTHONPATH": str(ROOT), "HOME": str(folder),
            "XDG_CONFIG_HOME": str(folder / "config"), "NO_COLOR": "1",
            "DATABASE_URL": f"sqlite:///{folder}/db.sqlite3",
            "CLOUDSITE_MEDIA_ROOT": str(folder / "media")}


def wait_until_serving(server: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.25)
    pytest.fail(f"make run did not serve within 120 s:\n{log.read_text()}")


def test_the_readme_commands_run_as_written(tmp_path):
    assert MAKE and BASH, "the README's commands need make and bash"
    blocks = code_blocks()
    two, *rest = blocks
    assert [line.split("#")[0].strip() for line in commands(two)] == ["make run", "make test"]
    assert len(rest) == 2 and "create_api_token" in rest[0] and "cloudsite calc" in rest[1]
    env = checkout(tmp_path)
    port = free_port()

    def here(command: str) -> str:
        return command.replace("127.0.0.1:8000", f"127.0.0.1:{port}")

    # `make test` cannot run inside the suite: its recipe must parse and name pytest.
    dry = subprocess.run([MAKE, "-n", "test"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=60)
    assert dry.returncode == 0 and "pytest" in dry.stdout, dry.stderr

    log = tmp_path / "make-run.log"
    server = subprocess.Popen([MAKE, "run", f"PORT={port}"], cwd=tmp_path, env=env,
                              stdout=log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        wait_until_serving(server, port, log)
        # One shell for both blocks, as a person would type them: TOKEN and ID carry over.
        # Each command's status is printed after it, and the shell goes on regardless.
        script = "\n".join(f"{here(command)}\necho \"::status $? :: {index}\" >&2"
                           for index, command in enumerate(commands("\n".join(rest))))
        run = subprocess.run([BASH, "-c", script], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
        statuses = re.findall(r"::status (\d+) :: (\d+)", run.stderr)
        listed = commands("\n".join(rest))
        assert len(statuses) == len(listed), run.stderr
        failed = [listed[int(index)] for status, index in statuses if status != "0"]
        assert not failed, f"{failed}\n{run.stdout}\n{run.stderr}"
        # What the commands did, beyond exiting 0.
        assert re.search(r"^median\s+15\.5$", run.stdout, re.MULTILINE), run.stdout
        assert (tmp_path / "photo-enhanced.jpg").read_bytes()[:2] == b"\xff\xd8"
        assert "Traceback" not in run.stderr
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C, as the README says
        deadline = time.monotonic() + 60
        while "runlocal stopped" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        server.wait(timeout=10)
    assert "runlocal stopped" in log.read_text()
    assert log.read_text().count("password:") == 2  # framed, and again once serving
