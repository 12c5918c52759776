"""The benchmark harness pieces that could break without anyone noticing: the proxy's
delay and its count by action, and the naive worker the figures are compared with."""

import json
import time
import uuid
from urllib.parse import urlparse

import boto3
import pytest

from bench import bench_workers
from bench.harness import Feed, Queues
from bench.naive_worker import naive_step
from bench.proxy import DelayProxy, action_of
from calc.handler import handle as calc_handle
from jobs.tools import get as get_tool
from tests.conftest import queue_depth
from workers import aws, envelope

CALC = get_tool("calc")


@pytest.fixture
def proxy(moto_server):
    proxy = DelayProxy(urlparse(moto_server).port, delay=0.05)
    yield proxy
    proxy.close()


def client(service, url):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.mark.server
def test_the_proxy_counts_sqs_and_s3_calls_by_action_and_delays_each(proxy):
    sqs, s3 = client("sqs", proxy.url), client("s3", proxy.url)
    started = time.monotonic()
    queue = sqs.create_queue(QueueName=f"proxy-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="hello")
    assert sqs.receive_message(QueueUrl=queue)["Messages"][0]["Body"] == "hello"
    bucket = f"proxy-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.txt", Body=b"x" * 100_000)
    assert s3.get_object(Bucket=bucket, Key="a/b.txt")["Body"].read() == b"x" * 100_000
    assert s3.head_object(Bucket=bucket, Key="a/b.txt")["ContentLength"] == 100_000
    elapsed = time.monotonic() - started

    assert proxy.counts() == {"CreateQueue": 1, "SendMessage": 1, "ReceiveMessage": 1,
                              "CreateBucket": 1, "PutObject": 1, "GetObject": 1,
                              "HeadObject": 1}
    assert elapsed >= 7 * 0.05
    proxy.reset()
    assert proxy.counts() == {}


@pytest.mark.server
def test_the_proxy_counts_the_messages_batches_and_receives_carried(proxy):
    sqs = client("sqs", proxy.url)
    queue = sqs.create_queue(QueueName=f"proxy-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=queue, Entries=[
        {"Id": str(i), "MessageBody": f"m{i}"} for i in range(7)])
    messages = []
    while len(messages) < 7:
        messages += sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10,
                                        WaitTimeSeconds=1).get("Messages", [])
    sqs.delete_message_batch(QueueUrl=queue, Entries=[
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages[:3])])
    answered, items = proxy.carried()

    assert items == {"SendMessageBatch": 7, "ReceiveMessage": 7, "DeleteMessageBatch": 3}
    # Calls and their messages are counted together: every answered call is in both.
    assert answered["SendMessageBatch"] == answered["DeleteMessageBatch"] == 1
    assert answered["ReceiveMessage"] == proxy.counts()["ReceiveMessage"] >= 1


def test_the_steady_state_counts_batched_calls_per_message_carried():
    whole = {"PutObject": 100, "GetQueueUrl": 2, "ReceiveMessage": 12,
             "SendMessageBatch": 13, "DeleteMessageBatch": 13}
    # The window: 60 jobs replied; one reply batch was split (6 calls for 50 entries).
    window = {"PutObject": 61, "ReceiveMessage": 5, "SendMessageBatch": 6,
              "DeleteMessageBatch": 6, "ChangeMessageVisibilityBatch": 1}
    # A batched call counts where its answer came back; one sent before the window
    # opened was answered in it.
    answered = {"ReceiveMessage": 5, "SendMessageBatch": 6, "DeleteMessageBatch": 6}
    window["ReceiveMessage"] = 4
    items = {"ReceiveMessage": 50, "SendMessageBatch": 50, "DeleteMessageBatch": 50}

    steady, text = bench_workers.steady_state(whole, 100, window, answered, items, 50)

    assert steady == pytest.approx(1.0 + 5 / 50 + 6 / 50 + 6 / 50 + 1 / 50)
    assert text == ("ReceiveMessage 5 for 50, SendMessageBatch 6 for 50, "
                    "DeleteMessageBatch 6 for 50")


def test_it_names_query_protocol_actions():
    assert action_of("POST", "/", {}, b"Action=DeleteMessageBatch&Version=2012-11-05") == (
        "DeleteMessageBatch")
    assert action_of("POST", "/", {"X-Amz-Target": "AmazonSQS.SendMessage"}, b"{}") == (
        "SendMessage")


def test_the_naive_worker_completes_a_calc_job(sqs_queues, media_root):
    job_id = str(uuid.uuid4())
    aws.send(CALC.request_queue, json.dumps({"version": 1, "job_id": job_id,
                                             "numbers": [4, 8, 15, 16, 23, 42]}))

    assert naive_step(CALC, calc_handle, wait_time=0) == 1

    replies = aws.receive(CALC.response_queue, wait_time=0)
    assert len(replies) == 1
    reply = envelope.decode_reply(replies[0]["Body"])
    assert reply["job_id"] == job_id and reply["status"] == "done"
    assert reply["result"]["median"] == 15.5
    assert (media_root / "logs" / "calc" / f"{job_id}.log").exists()
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 0}
    assert naive_step(CALC, calc_handle, wait_time=0) == 0


def test_the_naive_worker_replies_failed_to_bad_input(sqs_queues):
    job_id = str(uuid.uuid4())
    aws.send(CALC.request_queue, json.dumps({"version": 1, "job_id": job_id, "numbers": []}))

    assert naive_step(CALC, calc_handle, wait_time=0) == 1

    reply = envelope.decode_reply(aws.receive(CALC.response_queue, wait_time=0)[0]["Body"])
    assert reply["status"] == "failed" and "bad input" in reply["error"]


class ServerEmulator:
    """The session's moto server, shaped like bench.harness.Emulator."""

    def __init__(self, url):
        self.url = url

    def client(self, service):
        return client(service, self.url)


@pytest.mark.server
def test_the_feed_keeps_the_queue_shallow_and_counts_terminal_replies(moto_server):
    queues = Queues(ServerEmulator(moto_server), "calc", "unused")
    feed = Feed(queues, lambda n: json.dumps({"n": n}), depth=20, limit=50).start()
    try:
        deadline = time.monotonic() + 30
        while feed.sent < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert feed.sent == 20  # no replies yet: nothing more goes out

        # A worker's replies: the retrying one does not count, a duplicate counts once.
        messages = queues.sqs.receive_message(QueueUrl=queues.request_url,
                                              MaxNumberOfMessages=10)["Messages"]
        for index, status in enumerate(["retrying", "done", "done", "failed"]):
            queues.sqs.send_message(QueueUrl=queues.response_url, MessageBody=json.dumps(
                {"job_id": f"job-{min(index, 2)}", "status": status}))
        while feed.done < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert feed.done == 2 and feed.failed() == 0
        assert feed.sent == 20  # two replied: room for two, but only whole batches go out
        assert len(messages) == 10
    finally:
        feed.stop()


def test_cpu_seconds_reads_another_process_s_user_and_system_time():
    import subprocess
    import sys
    import time

    from bench.harness import cpu_seconds

    # A child that burns 0.3 s of CPU, then sleeps until killed; read from outside
    # (no output read, and a deadline).
    child = subprocess.Popen([sys.executable, "-c",
                              "import time\n"
                              "end = time.process_time() + 0.3\n"
                              "while time.process_time() < end: pass\n"
                              "time.sleep(60)"])
    try:
        deadline = time.monotonic() + 30
        while (used := cpu_seconds(child.pid)) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # asleep now: the figure must stay put
        assert cpu_seconds(child.pid) == pytest.approx(used, abs=0.05)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert 0.3 <= used < 3  # its own burn plus the interpreter's start-up
    assert cpu_seconds() > 0  # this process's own


def test_a_window_is_flagged_where_a_harness_process_saturates_a_core():
    def cpu(emulator, harness):
        return bench_workers.Cpu(per_1000=3, whole_per_1000=4, startup=1,
                                 emulator=emulator, harness=harness)

    assert cpu(0.5, 0.2).bound == ""
    assert cpu(0.95, 0.2).bound == "emulator-bound"
    assert cpu(0.95, 1.0).bound == "emulator-bound, harness-bound"
