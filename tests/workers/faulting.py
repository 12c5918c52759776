"""The pieces of the fault tests (tests/workers/test_faults.py): real calc worker
processes with a fault injected (fault_worker.py), a feeder that keeps the queue
shallow, and the figures each test prints."""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from calc.models import CalcJob
from jobs import tools
from tests.conftest import queue_depth
from workers import aws
from workers.reconcile import drain_dead_letters, reconcile

CALC = tools.get("calc")

ROOT = Path(__file__).resolve().parents[2]
FAULT_WORKER = Path(__file__).with_name("fault_worker.py")


def worker_env(settings, bucket=None, **extra) -> dict:
    env = {**os.environ, "AWS_ENDPOINT_URL": settings.AWS_ENDPOINT_URL,
           "CLOUDSITE_QUEUE_PREFIX": settings.CLOUDSITE_QUEUE_PREFIX,
           "DJANGO_SECRET_KEY": "test-only", "DJANGO_SETTINGS_MODULE": "cloudsite.settings",
           "DATABASE_URL": "sqlite:////nonexistent/never.sqlite3", "CLOUDSITE_LOG_LEVEL": "WARNING"}
    env.pop("CLOUDSITE_BUCKET", None)
    if bucket:
        env["CLOUDSITE_BUCKET"] = bucket
    env.update({key: str(value) for key, value in extra.items()})
    return env


def start_worker(env, *args) -> subprocess.Popen:
    # Output goes to a file: an unread pipe fills up and blocks the worker's logging.
    log = tempfile.TemporaryFile()
    return subprocess.Popen([sys.executable, str(FAULT_WORKER), "run_calc_worker", *args],
                            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def run_once(settings, *args) -> subprocess.CompletedProcess:
    """A normal worker (no fault) that handles what is queued, then exits."""
    result = subprocess.run(
        [sys.executable, str(FAULT_WORKER), "run_calc_worker", "--once", *args],
        env=worker_env(settings), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result


def make_jobs(count: int) -> list[CalcJob]:
    return [CalcJob.objects.create(numbers=[i, 3 * i + 1, 7, -i], owner="faults")
            for i in range(count)]


class Feeder:
    """Sends jobs a few at a time: moto's receive slows down as its queue grows."""

    def __init__(self, jobs, depth: int = 40):
        self.pending, self.depth = list(jobs), depth

    def step(self) -> None:
        if self.pending and queue_depth(CALC.request_queue)["visible"] < self.depth:
            for job in self.pending[:10]:
                assert job.send()
            del self.pending[:10]
        reconcile(CALC, wait_time=0)
        drain_dead_letters(CALC)


def run_until(condition, feeder: Feeder | None = None, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if feeder:
            feeder.step()
        else:
            reconcile(CALC, wait_time=0)
            drain_dead_letters(CALC)
        if condition():
            return True
        time.sleep(0.05)
    return False


def count(status: str) -> int:
    return CalcJob.objects.filter(status=status).count()


def log_keys(bucket: str) -> set[str]:
    s3 = aws.s3()
    keys = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="logs/calc/"):
        keys |= {item["Key"] for item in page.get("Contents", [])}
    return keys


def report(name: str, submitted: int, applied: Counter, **extra) -> dict:
    figures = {"submitted": submitted, "done": count("done"), "failed": count("failed"),
               "lost": count("queued") + count("running"),
               "applied twice": sum(n > 1 for n in applied.values()),
               **extra}
    print(f"\n[fault] {name}: " + ", ".join(f"{key} {value}" for key, value in figures.items()))
    return figures


def assert_right_results():
    for job in CalcJob.objects.filter(status="done"):
        assert job.result["mean"] == pytest.approx(statistics.fmean(job.numbers))
        assert job.result["median"] == statistics.median(job.numbers)


