"""Faults met by a consumer in this process, against moto's server mode: SQS throttling
and outages, and a slow job among quick ones. Each test prints its figures."""

import json
import threading
import time
import uuid

import pytest
from botocore.awsrequest import AWSResponse

from jobs import tools
from tests.conftest import queue_depth
from tests.workers.batch import Consumer
from workers import aws

CALC = tools.get("calc")

pytestmark = pytest.mark.server


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
    assert list(running) == [slow_id] and running[slow_id] < arrived[slow_id] - 1
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 0}
