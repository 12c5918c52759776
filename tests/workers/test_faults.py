"""Fault injection: real worker processes against moto's server mode.

Each test prints its figures: jobs submitted, done, failed, lost, applied twice.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest
from botocore.awsrequest import AWSResponse
from django.core.management import call_command

from calc.models import CalcJob
from tests.conftest import queue_depth
from tests.workers.batch import Consumer
from tests.workers.proxy import Proxy
from workers import aws, envelope, tools
from workers.reconcile import drain_dead_letters, reconcile

CALC = tools.get("calc")

pytestmark = [pytest.mark.server, pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
FAULT_WORKER = Path(__file__).with_name("fault_worker.py")


@pytest.fixture
def bucket(server_queues, settings):
    name = f"faults-{uuid.uuid4().hex[:10]}"
    settings.CLOUDSITE_BUCKET = name
    aws.create_bucket(name)
    return name


@pytest.fixture
def applied(monkeypatch):
    """Counts, per job, the replies that changed its row to a terminal state."""
    counts = Counter()
    real = CalcJob.apply_reply

    def counting(self, reply):
        changed = real(self, reply)
        if changed and reply["status"] != "retrying":
            counts[str(self.pk)] += 1
        return changed

    monkeypatch.setattr(CalcJob, "apply_reply", counting)
    return counts


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
               "lost": count("queued"), "applied twice": sum(n > 1 for n in applied.values()),
               **extra}
    print(f"\n[fault] {name}: " + ", ".join(f"{key} {value}" for key, value in figures.items()))
    return figures


def assert_right_results():
    for job in CalcJob.objects.filter(status="done"):
        assert job.result["mean"] == pytest.approx(statistics.fmean(job.numbers))
        assert job.result["median"] == statistics.median(job.numbers)


def test_a_killed_worker_loses_nothing(bucket, settings, applied):
    jobs = make_jobs(300)
    feeder = Feeder(jobs)
    env = worker_env(settings, bucket, FAULT_DELAY=0.02)
    args = ["--concurrency", "4", "--visibility-timeout", "2", "--retry-delay", "1"]
    first = start_worker(env, *args)
    try:
        assert run_until(lambda: count("done") >= 100, feeder, timeout=90)
        in_flight = queue_depth(CALC.request_queue)["in_flight"]
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        first.kill()
    done_at_kill = count("done")
    second = start_worker(env, *args)
    try:
        assert run_until(lambda: count("done") == 300, feeder, timeout=120)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        second.kill()
    figures = report("SIGKILL partway", 300, applied, **{"done at kill": done_at_kill,
                                                          "in flight at kill": in_flight})
    assert figures["done"] == 300 and figures["lost"] == 0 and figures["applied twice"] == 0
    assert_right_results()
    assert log_keys(bucket) == {f"logs/calc/{job.id}.log" for job in jobs}


def test_sigterm_mid_batch_exits_cleanly_and_hands_back(server_queues, settings, applied):
    jobs = make_jobs(20)
    for job in jobs:
        job.send()
    env = worker_env(settings, FAULT_DELAY=1.0)
    worker = start_worker(env, "--concurrency", "2", "--visibility-timeout", "30",
                          "--grace-period", "15")
    try:
        assert run_until(lambda: queue_depth(CALC.request_queue)["in_flight"] >= 10, timeout=30)
        time.sleep(0.3)  # two jobs are running, eight more of the batch wait their turn
        stopped = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=20)
        took = time.monotonic() - stopped
    finally:
        worker.kill()
    depth = queue_depth(CALC.request_queue)  # at once: no waiting for 30 s timeouts
    assert code == 0 and took < 15
    assert depth["in_flight"] == 0
    run_until(lambda: False, timeout=1)  # apply the replies of the jobs that finished
    finished_before_stop = count("done")
    assert depth["visible"] == 20 - finished_before_stop

    run_once(settings)
    assert run_until(lambda: count("done") == 20, timeout=30)
    figures = report("SIGTERM mid-batch", 20, applied,
                     **{"exit code": code, "seconds to exit": round(took, 2),
                        "finished before exit": finished_before_stop,
                        "handed back": depth["visible"]})
    assert figures["lost"] == 0 and figures["applied twice"] == 0


def test_jobs_outlasting_the_grace_period_are_handed_back(server_queues, settings, applied):
    jobs = make_jobs(4)
    for job in jobs:
        job.send()
    worker = start_worker(worker_env(settings, FAULT_DELAY=30), "--concurrency", "2",
                          "--visibility-timeout", "60", "--grace-period", "1")
    try:
        assert run_until(lambda: queue_depth(CALC.request_queue)["in_flight"] == 4, timeout=30)
        time.sleep(0.3)
        stopped = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=15)
        took = time.monotonic() - stopped
    finally:
        worker.kill()
    # Two running jobs were abandoned after 1 s, two unstarted ones handed back at once:
    # all four are visible again without waiting for their 60 s timeout.
    depth = queue_depth(CALC.request_queue)
    assert code == 0 and took < 10
    assert depth == {"visible": 4, "in_flight": 0}
    run_once(settings)
    assert run_until(lambda: count("done") == 4, timeout=30)
    figures = report("jobs longer than the grace period", 4, applied,
                     **{"exit code": code, "seconds to exit": round(took, 2),
                        "visible again at once": depth["visible"]})
    assert figures["lost"] == 0 and figures["applied twice"] == 0


def test_an_s3_outage_loses_nothing_and_fakes_nothing(bucket, settings, applied):
    moto_port = urlparse(settings.AWS_ENDPOINT_URL).port
    proxy = Proxy(moto_port)
    proxy.cut.set()  # S3 is down when the jobs arrive
    jobs = make_jobs(30)
    for job in jobs:
        job.send()
    env = worker_env(settings, bucket, AWS_ENDPOINT_URL_S3=f"http://127.0.0.1:{proxy.port}",
                     AWS_MAX_ATTEMPTS=2)
    worker = start_worker(env, "--concurrency", "2", "--visibility-timeout", "10",
                          "--retry-delay", "1")
    try:
        # The outage lasts until the worker has met it (a slow start on a busy machine
        # must not let it miss the outage), then 2 s more.
        assert run_until(lambda: proxy.refused > 0, timeout=60)
        run_until(lambda: False, timeout=2)
        done_during_outage = count("done")
        tries_during_outage = sum(CalcJob.objects.values_list("retries", flat=True))
        proxy.cut.clear()
        assert run_until(lambda: count("done") + count("failed") == 30, timeout=90)
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        worker.kill()
        proxy.close()
    figures = report("S3 unreachable until the worker met it, then 2 s", 30, applied,
                     **{"done during outage": done_during_outage,
                        "retries reported during outage": tries_during_outage,
                        "connections refused": proxy.refused})
    assert done_during_outage == 0 and proxy.refused > 0
    assert figures["done"] == 30 and figures["lost"] == 0 and figures["applied twice"] == 0
    # Nothing was marked done without its output.
    assert log_keys(bucket) == {f"logs/calc/{job.id}.log" for job in jobs}


def test_a_poison_message_ends_in_the_dead_letter_queue(server_queues, settings, applied):
    [job] = make_jobs(1)
    job.send()
    worker = start_worker(worker_env(settings, FAULT_MODE="poison"), "--visibility-timeout",
                          "5", "--retry-delay", "0")
    try:
        assert run_until(lambda: count("failed") == 1, timeout=60)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    job.refresh_from_db()
    report("poison message", 1, applied, **{"worker attempts": job.retries})
    assert job.error == ("gave up after 5 attempts: "
                         "ConnectionError: injected fault: this job always fails")
    assert queue_depth(CALC.request_dlq) == {"visible": 0, "in_flight": 0}


def test_bad_messages_fail_their_jobs_and_the_worker_goes_on(server_queues, settings, applied):
    good = make_jobs(10)
    missing, old_version, oversized = make_jobs(3)
    for job in good:
        job.send()
    aws.send(CALC.request_queue, "{this is not json")
    aws.send(CALC.request_queue, json.dumps({"version": 1, "job_id": str(missing.id)}))
    aws.send(CALC.request_queue, json.dumps(
        {"version": 9, "job_id": str(old_version.id), "numbers": [1]}))
    aws.send(CALC.request_queue, json.dumps(
        {"version": 1, "job_id": str(oversized.id), "numbers": [1.5] * 20_000}))
    result = run_once(settings, "--visibility-timeout", "30")
    assert "stopped after 14 messages" in result.stdout
    assert "undecodable message" in result.stderr
    assert run_until(lambda: count("done") + count("failed") == 13, timeout=30)
    errors = {job.id: job.error for job in CalcJob.objects.filter(status="failed")}
    assert errors == {
        missing.id: "bad input: numbers must be a list",
        old_version.id: "unsupported message version 9",
        oversized.id: "bad input: expected 1 to 10,000 numbers, got 20,000",
    }
    figures = report("bad messages", 14, applied, **{"undecodable left for DLQ": 1})
    assert figures["done"] == 10 and figures["applied twice"] == 0


def test_stale_and_unknown_replies_change_nothing(server_queues, settings, applied):
    [job] = make_jobs(1)
    job.send()
    run_once(settings)
    assert run_until(lambda: count("done") == 1, timeout=30)
    job.refresh_from_db()
    before = CalcJob.objects.filter(pk=job.pk).values().get()

    def reply(job_id, **fields):
        return json.dumps(envelope.reply(str(job_id), worker="replayer",
                                         started_at=envelope.timestamp(), **fields))

    stale = {"result": {"count": 1, "min": 0, "max": 0, "mean": 0.0, "median": 0},
             "log_key": "logs/calc/elsewhere.log"}
    aws.send(CALC.response_queue, reply(job.id, result=stale))
    aws.send(CALC.response_queue, reply(uuid.uuid4(), result=stale))
    aws.send(CALC.response_queue, reply(job.id, error="a late failure"))
    call_command("reconcile_replies", "--once", stdout=open(os.devnull, "w"))
    after = CalcJob.objects.filter(pk=job.pk).values().get()
    report("replayed, unknown and late replies", 1, applied, **{"replies sent": 3})
    assert after == before
    assert applied[str(job.id)] == 1
    assert queue_depth(CALC.response_queue) == {"visible": 0, "in_flight": 0}


def throttled_response(request, **kwargs):
    body = json.dumps({"__type": "com.amazonaws.sqs#RequestThrottled",
                       "message": "Rate exceeded"}).encode()
    return AWSResponse(request.url, 400, {"x-amzn-query-error": "RequestThrottled;Sender",
                                          "content-type": "application/x-amz-json-1.0"},
                       RawBody(body))


class RawBody:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **kwargs):
        yield self.body

    def read(self, *args):
        return self.body


def test_sqs_throttling_backs_off_then_succeeds(server_queues, monkeypatch):
    calls = []

    def throttle_twice(request, **kwargs):
        calls.append(time.monotonic())
        if len(calls) <= 2:
            return throttled_response(request)
        return None

    client = aws.sqs()
    client.meta.events.register("before-send.sqs.ReceiveMessage", throttle_twice)
    try:
        aws.send(CALC.request_queue, json.dumps(
            {"version": 1, "job_id": str(uuid.uuid4()), "numbers": [1, 2]}))
        consumer = Consumer(CALC, visibility_timeout=5, worker="w")
        started = time.monotonic()
        assert consumer.process_batch(wait_time=0) == 1
        elapsed = time.monotonic() - started
        consumer.close()
    finally:
        client.meta.events.unregister("before-send.sqs.ReceiveMessage", throttle_twice)
    gaps = [round(b - a, 3) for a, b in zip(calls, calls[1:], strict=False)]
    print(f"\n[fault] SQS throttling: receive attempts {len(calls)}, gaps {gaps} s, "
          f"batch handled after {elapsed:.2f} s")
    assert len(calls) == 3 and all(gap > 0 for gap in gaps)
    assert len(aws.receive(CALC.response_queue, wait_time=1)) == 1


def test_a_consumer_backs_off_when_sqs_stays_down(server_queues, monkeypatch):
    consumer = Consumer(CALC, visibility_timeout=5, worker="w")
    failures = iter([True, True, True])
    real_receive = aws.receive

    def receive(*args, **kwargs):
        if next(failures, False):
            raise ConnectionError("SQS is unreachable")
        return real_receive(*args, **kwargs)

    waits = []
    monkeypatch.setattr(aws, "receive", receive)
    monkeypatch.setattr(consumer.stopping, "wait", lambda seconds: waits.append(seconds))
    consumer.run(once=True)
    consumer.close()
    print(f"\n[fault] SQS down for 3 receives: waited {waits} s between them")
    assert waits == [2, 4, 8]


def test_boto3_is_in_standard_retry_mode():
    config = aws.client_config()
    assert config.retries == {"mode": "standard", "max_attempts": 5}
    assert config.read_timeout > aws.LONG_POLL_SECONDS


def test_a_slow_job_does_not_hold_the_replies_of_its_batch(server_queues):
    slow_id = str(uuid.uuid4())
    ids = [slow_id] + [str(uuid.uuid4()) for _ in range(9)]
    started = {}

    def handler(message, context):
        started[context.job_id] = time.monotonic()
        if context.job_id == slow_id:
            time.sleep(3)
        return {"result": {"n": len(message["numbers"])}}

    aws.send_batch(CALC.request_queue, {
        str(i): json.dumps({"version": 1, "job_id": job_id, "numbers": [i]})
        for i, job_id in enumerate(ids)})
    consumer = Consumer(CALC, handler, concurrency=10, visibility_timeout=30, worker="w")
    thread = threading.Thread(target=consumer.run, kwargs={"once": True}, daemon=True)
    thread.start()
    arrived, running = {}, {}
    deadline = time.monotonic() + 30
    while len(arrived) < 10 and time.monotonic() < deadline:
        for message in aws.receive(CALC.response_queue, wait_time=0):
            reply = json.loads(message["Body"])
            seen = running if reply["status"] == "running" else arrived
            seen.setdefault(reply["job_id"], time.monotonic())
        time.sleep(0.01)
    thread.join(timeout=30)
    consumer.close()
    waits = {job_id: arrived[job_id] - started[job_id] for job_id in arrived}
    fast = sorted(round(waits[job_id], 3) for job_id in ids[1:] if job_id in waits)
    print(f"\n[fault] one 3 s job in a batch of 10: the other nine replied after {fast} s, "
          f"the slow one after {waits.get(slow_id, 0):.2f} s")
    assert len(arrived) == 10 and not thread.is_alive()
    assert len(fast) == 9 and max(fast) < 0.5
    assert waits[slow_id] >= 3
    # The slow job, and only it, was reported running, long before its reply.
    assert list(running) == [slow_id] and running[slow_id] < arrived[slow_id] - 2
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 0}
