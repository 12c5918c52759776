"""`make run` (manage.py runlocal) as a real process on 127.0.0.1: a 300 MB body, a chunked
flood and a multipart part flood cost its web server neither memory nor disk (issue 17,
items 1 and 11). Django's runserver, which it used before, read a 300 MB body whole into
memory when it closed the request."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
MB = 2**20
BOUNDARY = "floodboundary"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Output:
    """A child's output lines, read by a thread, waited for with a timeout."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.arrived = queue.Queue()
        threading.Thread(target=self.read, args=(stream,), daemon=True).start()

    def read(self, stream):
        for line in stream:
            self.lines.append(line)
            self.arrived.put(line)
        self.arrived.put(None)

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if any(text in line for line in self.lines):
            return True
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.arrived.get(timeout=left)
            except queue.Empty:
                return False
            if line is None:
                return False
            if text in line:
                return True
        return False


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def family_of(pid: int) -> list[int]:
    """A process and all its descendants."""
    return [pid, *(member for child in children_of(pid) for member in family_of(child))]


def memory_kb(pid: int, field: str) -> int:
    """VmRSS (now) or VmHWM (the most the process ever held) of a process, in KB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE).group(1))


def request(port: int, head: str, body_pieces=(), timeout: float = 60) -> tuple[int, int]:
    """Send a request and all its body, as an attacker would whatever the answer, while a
    thread reads the answer (the server may answer before the body is through, then
    close). Returns (status, body bytes sent before the server closed)."""
    answer = bytearray()

    def read(sock):
        try:
            while chunk := sock.recv(65536):
                answer.extend(chunk)
        except OSError:
            pass  # reset by the server after its answer

    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        reader = threading.Thread(target=read, args=(sock,), daemon=True)
        reader.start()
        try:
            sock.sendall(head.encode())
            for piece in body_pieces:
                sock.sendall(piece)
                sent += len(piece)
            sock.shutdown(socket.SHUT_WR)  # all sent: the server closes after its answer
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed: what it answered is in `answer`
        reader.join(timeout)
        assert not reader.is_alive(), "the server neither answered nor closed"
    assert answer, "no answer"
    status_line = bytes(answer).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1]), sent


def posted(path: str, length: int | None, content_type: str = "application/octet-stream",
           port: int = 0) -> str:
    size = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: csrftoken={'c' * 32}"
            f"\r\nContent-Type: {content_type}\r\n{size}\r\n\r\n")


def chunked(pieces):
    for piece in pieces:
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def peak_growth_kb(pids: list[int], before: dict[int, int]) -> dict[int, int]:
    return {pid: memory_kb(pid, "VmHWM") - before[pid] for pid in pids}


@pytest.fixture
def runlocal(tmp_path):
    """`manage.py runlocal` on a free port, with a database, media and temp dir of its own."""
    (tmp_path / "tmp").mkdir()
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "CLOUDSITE_", "DJANGO_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "cloudsite.settings", "DJANGO_SECRET_KEY": "test-only",
                "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                "CLOUDSITE_MEDIA_ROOT": str(tmp_path / "media"), "TMPDIR": str(tmp_path / "tmp"),
                # Unbuffered, or the lines waited for could sit in the child's buffer.
                "PYTHONUNBUFFERED": "1"})
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runlocal",
                                "--port", str(port)], env=env, cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    output = Output(process.stdout)
    try:
        yield process, output, port, tmp_path / "tmp"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            for pid in children_of(process.pid):
                os.killpg(pid, signal.SIGKILL)  # each child leads a session of its own
            process.wait(timeout=30)


def test_make_run_refuses_big_bodies_without_holding_them(runlocal):
    process, output, port, temp_dir = runlocal
    assert output.wait_for("Created the admin account", timeout=180), "".join(output.lines)
    # The site answers, on every worker process, before anything is measured.
    deadline = time.monotonic() + 60
    while True:
        try:
            for _ in range(6):
                assert request(port, f"GET /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1:{port}"
                                     "\r\n\r\n")[0] == 200
            break
        except OSError:
            assert time.monotonic() < deadline, "".join(output.lines)
            time.sleep(0.5)
    # Whichever process serves: gunicorn's, or runlocal itself when it ran runserver (the
    # tool workers, perhaps still starting, are left out).
    family = family_of(process.pid)
    servers = [process.pid, *(pid for pid in family
                              if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes())]
    for pid in servers:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
    before = {pid: memory_kb(pid, "VmRSS") for pid in servers}

    most_on_disk = 0
    stop = threading.Event()

    def watch_disk():
        nonlocal most_on_disk
        while not stop.is_set():
            on_disk = sum(p.stat().st_size for p in temp_dir.rglob("*") if p.is_file())
            most_on_disk = max(most_on_disk, on_disk)
            time.sleep(0.005)

    watcher = threading.Thread(target=watch_disk, daemon=True)
    watcher.start()
    try:
        zeros = bytes(MB)
        # 300 MB with its length: refused from the header.
        status, _ = request(port, posted("/admin/login/", 300 * MB, port=port), [zeros] * 300)
        assert status == 413
        assert max(peak_growth_kb(servers, before).values()) < 48 * 1024, "read whole"
        # 300 MB chunked: refused once past the 64 KB cap.
        status, _ = request(port, posted("/admin/login/", None, port=port),
                            chunked([zeros[:65536]] * 4800))
        assert status == 413
        status, _ = request(port, posted("/pic/", None, port=port), chunked([zeros] * 300))
        assert status == 411
        # A part flood under the photo cap: one 2 MB file part at most is written.
        part = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; '
                f'filename="a.png"\r\nContent-Type: image/png\r\n\r\n').encode() + bytes(
                    2 * MB) + b"\r\n"
        flood = [part] * 9 + [f"--{BOUNDARY}--\r\n".encode()]
        status, _ = request(port, posted(
            "/pic/", sum(map(len, flood)), f"multipart/form-data; boundary={BOUNDARY}",
            port=port), flood)
        assert status == 400
    finally:
        stop.set()
        watcher.join(5)

    growth = peak_growth_kb(servers, before)
    print(f"peak RSS growth of runlocal and its gunicorn processes (KB): {growth}; "
          f"most bytes in the temp dir: {most_on_disk}")
    assert max(growth.values()) < 48 * 1024  # a 300 MB body read whole would show here
    assert most_on_disk <= 2 * MB + 64 * 1024
    assert list(temp_dir.rglob("*")) == []

    # Ctrl-C stops everything: the site, the workers, the emulator.
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=90) == 0
    assert output.wait_for("runlocal stopped", timeout=10)
    assert not any(Path(f"/proc/{pid}").exists() for pid in family)
