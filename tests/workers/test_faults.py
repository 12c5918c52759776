"""Fault injection: real worker processes against moto's server mode.

Each test prints its figures: jobs submitted, done, failed, lost, applied twice.
"""

import json
import os
import signal
import time
import uuid
from collections import Counter
from urllib.parse import urlparse

import pytest
from django.core.management import call_command

from calc.models import CalcJob
from tests.conftest import queue_depth
from tests.workers.faulting import (
    CALC,
    Feeder,
    assert_right_results,
    count,
    log_keys,
    make_jobs,
    report,
    run_once,
    run_until,
    start_worker,
    worker_env,
)
from tests.workers.proxy import Proxy
from workers import aws, envelope

pytestmark = [pytest.mark.server, pytest.mark.django_db]


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
        if changed and reply["status"] in ("done", "failed"):
            counts[str(self.pk)] += 1
        return changed

    monkeypatch.setattr(CalcJob, "apply_reply", counting)
    return counts



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
