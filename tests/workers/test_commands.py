import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from io import StringIO
from pathlib import Path

import boto3
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from calc.models import CalcJob
from jobs import tools
from tests.conftest import queue_depth
from workers import aws

CALC = tools.get("calc")

ROOT = Path(__file__).resolve().parents[2]


def worker_env(endpoint: str, prefix: str, **extra) -> dict:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "CLOUDSITE_QUEUE_PREFIX": prefix,
           "DJANGO_SECRET_KEY": "test-only", "DJANGO_SETTINGS_MODULE": "cloudsite.settings",
           # The worker needs no database: point it at one that cannot exist.
           "DATABASE_URL": "sqlite:////nonexistent/never.sqlite3", **extra}
    return env


def wait_for_line(stream, text: str, timeout: float) -> bool:
    """Whether a line containing text arrives on stream within timeout seconds."""
    lines = queue.Queue()

    def read():
        for line in stream:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            return False
        if line is None:
            return False
        if text in line:
            return True
    return False


def manage(*args, env, timeout=60):
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_setup_aws_is_idempotent(sqs_queues):
    out = StringIO()
    call_command("setup_aws", stdout=out)
    call_command("setup_aws", stdout=out)
    assert out.getvalue().count("AWS resources ready") == 2
    attributes = aws.sqs().get_queue_attributes(
        QueueUrl=aws.queue_url(CALC.request_queue), AttributeNames=["RedrivePolicy"])
    policy = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert policy["maxReceiveCount"] in (5, "5")
    assert policy["deadLetterTargetArn"].endswith(":cloudcal-requests-dlq")


def test_setup_aws_creates_a_private_bucket(sqs_queues, settings):
    settings.CLOUDSITE_BUCKET = "fresh-bucket"
    call_command("setup_aws", stdout=StringIO())
    block = aws.s3().get_public_access_block(Bucket="fresh-bucket")
    assert all(block["PublicAccessBlockConfiguration"].values())


@pytest.mark.server
@pytest.mark.django_db
def test_run_calc_worker_once_as_a_real_process(server_queues, settings, tmp_path):
    bucket = f"b-{uuid.uuid4().hex[:10]}"
    settings.CLOUDSITE_BUCKET = bucket
    aws.create_bucket(bucket)
    jobs = [CalcJob.objects.create(numbers=[i, i * 3, 7], owner="o") for i in range(1, 16)]
    for job in jobs:
        assert job.send()
    bad = str(uuid.uuid4())
    aws.send(CALC.request_queue, json.dumps({"version": 1, "job_id": bad, "numbers": ["x"]}))
    aws.send(CALC.request_queue, "not json")

    env = worker_env(server_queues, settings.CLOUDSITE_QUEUE_PREFIX, CLOUDSITE_BUCKET=bucket)
    result = manage("run_calc_worker", "--once", "--concurrency", "3",
                    "--visibility-timeout", "30", env=env)
    assert result.returncode == 0, result.stderr
    assert "stopped after 17 messages" in result.stdout

    out = StringIO()
    call_command("reconcile_replies", "--once", stdout=out)
    assert "applied 15 replies" in out.getvalue()  # the reply for `bad` has no job row
    for job in jobs:
        job.refresh_from_db()
        assert job.status == "done"
        assert job.result["median"] == statistics.median(job.numbers)
    s3 = boto3.client("s3", endpoint_url=server_queues, region_name="us-east-1")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {f"logs/calc/{job.id}.log" for job in jobs}
    # The undecodable body stays for the dead-letter queue; everything else is gone.
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 1}


@pytest.mark.server
def test_a_worker_stops_on_sigterm_during_its_long_poll(server_queues, settings):
    # Unbuffered, or the line waited for could sit in the child's buffer for ever.
    env = worker_env(server_queues, settings.CLOUDSITE_QUEUE_PREFIX, PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "run_calc_worker"],
                               env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        assert wait_for_line(process.stdout, "consuming", timeout=60)
        time.sleep(0.5)  # inside a 20 s long poll now
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()


def stop_on_first_step(monkeypatch):
    """Make reconcile_replies' step raise SIGINT at itself once, as Ctrl-C would."""
    from workers.management.commands import reconcile_replies

    steps = []
    real_step = reconcile_replies.Command.step

    def step(self):
        steps.append(signal.getsignal(signal.SIGINT))
        os.kill(os.getpid(), signal.SIGINT)  # delivered to this (the main) thread at once
        return real_step(self)

    monkeypatch.setattr(reconcile_replies.Command, "step", step)
    return steps


@pytest.fixture
def own_signal_handlers():
    """Handlers this test sets itself, whatever the shell gave the process (a background
    job or nohup starts it with SIGINT ignored), restored after."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.django_db
def test_reconcile_replies_stops_on_a_signal_and_restores_the_handlers(
        sqs_queues, monkeypatch, own_signal_handlers):
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    steps = stop_on_first_step(monkeypatch)
    out = StringIO()
    call_command("reconcile_replies", "--wait-time", "0", stdout=out)  # no --once: a signal ends it
    assert len(steps) == 1 and steps[0] is not before[signal.SIGINT]
    assert "reconciler stopped after 0 changes" in out.getvalue()
    assert {sig: signal.getsignal(sig) for sig in before} == before
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C stops pytest again
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)


@pytest.mark.django_db
def test_reconcile_replies_once_runs_steps_until_one_does_nothing(sqs_queues, monkeypatch):
    from workers.management.commands import reconcile_replies

    results = iter([3, 1, 0, 5])
    monkeypatch.setattr(reconcile_replies.Command, "step", lambda self: next(results))
    out = StringIO()
    call_command("reconcile_replies", "--once", stdout=out)
    assert "reconciler stopped after 4 changes" in out.getvalue()
    assert next(results) == 5


@pytest.mark.django_db
def test_a_failing_reconcile_step_is_logged_with_its_traceback(sqs_queues, monkeypatch, caplog):
    from workers import loop
    from workers.management.commands import reconcile_replies

    calls = []

    def step(self):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("SQS is unreachable")
        return 0

    monkeypatch.setattr(reconcile_replies.Command, "step", step)
    monkeypatch.setattr(loop, "outage_delay", lambda failures: 0)
    call_command("reconcile_replies", "--once", stdout=StringIO())
    [record] = [r for r in caplog.records if r.name == "workers.loop"]
    assert record.exc_info and "SQS is unreachable" in str(record.exc_info[1])
    assert len(calls) == 2


def test_a_worker_command_run_in_process_restores_the_signal_handlers(sqs_queues):
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    aws.send(CALC.request_queue, json.dumps(
        {"version": 1, "job_id": str(uuid.uuid4()), "numbers": [1, 2]}))
    out = StringIO()
    call_command("run_calc_worker", "--once", stdout=out)
    assert "stopped after 1 messages" in out.getvalue()
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_run_worker_names_its_tool_and_refuses_an_unknown_one(sqs_queues):
    out = StringIO()
    call_command("run_worker", "pic", "--once", stdout=out)
    assert "pic worker" in out.getvalue() and "consuming cloudpic-inbox" in out.getvalue()
    with pytest.raises(CommandError, match="no installed tool named 'nope'"):
        call_command("run_worker", "nope", "--once", stdout=StringIO())
