"""Pieces the benchmarks share: the emulator in a process of its own, worker processes,
and a feed that keeps the request queue shallow while it collects the replies.

The feed talks to the emulator directly (not through the delay proxy), so only the
worker's calls are delayed and counted.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
TERMINAL = ("done", "failed")
# docs/design.md §3: the queues a worker of each tool reads and writes.
QUEUES = {"calc": ("cloudcal-requests", "cloudcal-responses"),
          "pic": ("cloudpic-inbox", "cloudpic-outbox")}
BUCKET = "cloudsite-bench"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
               "AWS_DEFAULT_REGION": "us-east-1"}


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU-seconds a process has spent so far (this one when pid is None),
    read from /proc as an outside observer would; not its children's."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    with open(f"/proc/{pid}/stat", "rb") as stat:
        # Fields after the command name (which may hold spaces), from its closing ')'.
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuClock:
    """CPU-seconds of the worker, the emulator and the harness itself (the delay proxy
    and the feed) read together, so a window's share of each is one subtraction."""

    def __init__(self, worker: int, emulator: int):
        self.pids = {"worker": worker, "emulator": emulator, "harness": None}

    def read(self) -> dict[str, float]:
        return {"wall": time.monotonic(),
                **{name: cpu_seconds(pid) for name, pid in self.pids.items()}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Emulator:
    """moto in server mode, in a child process (so its CPU is not the benchmark's)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = ("import sys; from moto.server import ThreadedMotoServer; "
                f"s = ThreadedMotoServer(ip_address='127.0.0.1', port={self.port}, "
                "verbose=False); s.start(); sys.stdin.read(); s.stop()")
        # It stops when its stdin closes, so it never outlives the benchmark.
        self.process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the AWS emulator did not start") from None
                time.sleep(0.1)

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="bench", aws_secret_access_key="bench",
                            config=Config(max_pool_connections=20))

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Queues:
    """One tool's request and response queues and a bucket, under a fresh prefix."""

    def __init__(self, emulator: Emulator, tool_name: str, bucket: str):
        request_queue, response_queue = QUEUES[tool_name]
        self.prefix = f"b{uuid.uuid4().hex[:8]}-"
        self.sqs = emulator.client("sqs")
        self.request_url = self.sqs.create_queue(
            QueueName=self.prefix + request_queue,
            Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
        self.response_url = self.sqs.create_queue(
            QueueName=self.prefix + response_queue)["QueueUrl"]
        self.bucket = bucket


def worker_env(endpoint: str, queues: Queues) -> dict:
    env = {**os.environ, **CREDENTIALS, "AWS_ENDPOINT_URL": endpoint,
           "CLOUDSITE_QUEUE_PREFIX": queues.prefix, "CLOUDSITE_BUCKET": queues.bucket,
           "DJANGO_SETTINGS_MODULE": "cloudsite.settings", "DJANGO_SECRET_KEY": "bench-only",
           # Workers never touch the database; this proves it.
           "DATABASE_URL": "sqlite:////nonexistent/never.sqlite3",
           "CLOUDSITE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_DEBUG", None)
    return env


def wait_for(condition, timeout: float, worker, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if worker.poll() is not None or time.monotonic() > deadline:
            output = stop_worker(worker)
            raise SystemExit(f"the worker did not {what}:\n{output[-3000:]}")
        time.sleep(0.02)


def start_worker(kind: str, tool_name: str, env: dict, concurrency: int = 1) -> subprocess.Popen:
    """'naive' (bench/naive_worker.py) or 'cloudsite' (the real run_<tool>_worker command)."""
    if kind == "naive":
        command = [sys.executable, str(ROOT / "bench" / "naive_worker.py"), tool_name]
    else:
        command = [sys.executable, str(ROOT / "manage.py"), f"run_{tool_name}_worker",
                   "--concurrency", str(concurrency)]
    # Output to a file: an unread pipe would fill up and block the worker.
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    process.log = log
    return process


def stop_worker(process: subprocess.Popen) -> str:
    """SIGTERM, wait; return the worker's output when it failed (for the report)."""
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.log.seek(0)
    output = process.log.read().decode(errors="replace")
    process.log.close()
    return output if process.returncode not in (0, -15) else ""


class Feed:
    """Sends requests made by `make_body(n)` so that no more than `depth` are outstanding
    (sent but not replied to), and counts the terminal replies as they come back."""

    def __init__(self, queues: Queues, make_body, depth: int = 40, limit: int | None = None):
        self.queues, self.make_body, self.depth, self.limit = queues, make_body, depth, limit
        self.sent = 0
        self.replies: dict[str, str] = {}  # job id -> terminal status
        self.running = 0  # "running" notes received (a job still running after a while)
        self.first_reply = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stop_feeding = threading.Event()
        self._threads = [threading.Thread(target=self._feed, daemon=True),
                         threading.Thread(target=self._drain, daemon=True)]

    def start(self) -> Feed:
        for thread in self._threads:
            thread.start()
        return self

    def stop_feeding(self) -> None:
        """Send no more requests (the replies are still collected); `sent` is final after."""
        self._stop_feeding.set()
        self._threads[0].join(timeout=30)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    @property
    def done(self) -> int:
        with self._lock:
            return len(self.replies)

    def failed(self) -> int:
        with self._lock:
            return sum(status != "done" for status in self.replies.values())

    def _feed(self) -> None:
        while not (self._stop.is_set() or self._stop_feeding.is_set()):
            room = self.depth - (self.sent - self.done)
            left = self.limit - self.sent if self.limit is not None else self.depth
            # Top up in whole batches of ten unless fewer are wanted at all.
            if left <= 0 or room < min(10, self.depth, left):
                self._stop.wait(0.005)
                continue
            room = min(room, left)
            while room > 0:
                entries = [{"Id": str(i), "MessageBody": self.make_body(self.sent + i)}
                           for i in range(min(10, room))]
                self.queues.sqs.send_message_batch(QueueUrl=self.queues.request_url,
                                                   Entries=entries)
                self.sent += len(entries)
                room -= len(entries)

    def _drain(self) -> None:
        sqs = self.queues.sqs
        while not self._stop.is_set():
            messages = sqs.receive_message(QueueUrl=self.queues.response_url,
                                           MaxNumberOfMessages=10, WaitTimeSeconds=1
                                           ).get("Messages", [])
            if not messages:
                continue
            with self._lock:
                for message in messages:
                    reply = json.loads(message["Body"])
                    if reply.get("status") in TERMINAL:
                        self.replies.setdefault(reply["job_id"], reply["status"])
                    elif reply.get("status") == "running":
                        self.running += 1
            self.first_reply.set()
            sqs.delete_message_batch(QueueUrl=self.queues.response_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(messages)])
