import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from io import StringIO
from pathlib import Path

import boto3
import pytest
from django.core.management import call_command

from calc.models import CalcJob
from tests.conftest import queue_depth
from workers import aws
from workers.tools import CALC

ROOT = Path(__file__).resolve().parents[2]


def worker_env(endpoint: str, prefix: str, **extra) -> dict:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "CLOUDSITE_QUEUE_PREFIX": prefix,
           "DJANGO_SECRET_KEY": "test-only", "DJANGO_SETTINGS_MODULE": "cloudsite.settings",
           # The worker needs no database: point it at one that cannot exist.
           "DATABASE_URL": "sqlite:////nonexistent/never.sqlite3", **extra}
    return env


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
    env = worker_env(server_queues, settings.CLOUDSITE_QUEUE_PREFIX)
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "run_calc_worker"],
                               env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        for line in process.stdout:
            if "consuming" in line:
                break
        time.sleep(0.5)  # inside a 20 s long poll now
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
