"""What a worker sends besides its terminal replies (issues 17 and 21): the request's
reply token echoed in every reply, and "running" notes for jobs that take a while."""

import json
import threading
import time
import uuid

import pytest

from tests.workers.batch import Consumer
from tests.workers.test_consumer import CALC, replies, request, send_raw
from workers import aws, envelope


def test_every_reply_echoes_the_request_s_reply_token(sqs_queues):
    # Issue 17: each send carries a fresh token; every reply to it (done, failed,
    # retrying, running) carries it back unchanged, so the web app can bind the two.
    attempts = []

    def handler(message, context):
        attempts.append(message["job_id"])
        if message.get("numbers") == ["retry"] and attempts.count(message["job_id"]) == 1:
            raise ConnectionError("S3 blinked")
        if message.get("numbers") == ["slow"]:
            time.sleep(0.6)  # past the running note's threshold
        if message.get("numbers") == ["bad"]:
            raise envelope.PermanentError("bad input: nope")
        return {}

    consumer = Consumer(CALC, handler, concurrency=4, visibility_timeout=30, retry_delay=0,
                        worker="w", running_after=0.2)
    sent = {}
    for kind in ("done", "bad", "retry", "slow"):
        message = request(numbers=[kind], reply_token=f"token-{kind}-{uuid.uuid4().hex}")
        sent[message["job_id"]] = message["reply_token"]
        send_raw(json.dumps(message))
    got = []
    deadline = time.monotonic() + 15
    while len([r for r in got if r["status"] in ("done", "failed")]) < 4:
        assert time.monotonic() < deadline
        consumer.process_batch(wait_time=1)
        got += replies(running=True)
    consumer.close()
    assert {reply["status"] for reply in got} == {"done", "failed", "retrying", "running"}
    assert all(reply["reply_token"] == sent[reply["job_id"]] for reply in got)


@pytest.mark.parametrize("token", [None, 42, "x" * 101])
def test_a_missing_or_unusable_reply_token_is_not_echoed(calc_consumer, token):
    message = request(numbers=[1, 2])
    if token is not None:
        message["reply_token"] = token
    send_raw(json.dumps(message))
    assert calc_consumer.process_batch(wait_time=0) == 1
    [reply] = replies()
    assert reply["status"] == "done" and "reply_token" not in reply


def test_a_reply_too_large_to_send_keeps_its_token(sqs_queues):
    consumer = Consumer(CALC, lambda message, context: {"blob": "x" * envelope.MAX_BODY_BYTES},
                        visibility_timeout=5, worker="w")
    send_raw(json.dumps(request(reply_token="t-1")))
    consumer.process_batch(wait_time=0)
    consumer.close()
    [reply] = replies()
    assert (reply["status"], reply["reply_token"]) == ("failed", "t-1")


def test_a_quick_job_gets_no_running_note_and_a_slow_one_gets_exactly_one(sqs_queues):
    def handler(message, context):
        time.sleep(message["numbers"][0])
        return {}

    consumer = Consumer(CALC, handler, concurrency=2, visibility_timeout=30, worker="w",
                        running_after=0.3)
    quick, slow = request(numbers=[0]), request(numbers=[1.2])
    aws.send_batch(CALC.request_queue, {"q": json.dumps(quick), "s": json.dumps(slow)})
    assert consumer.process_batch(wait_time=0) == 2
    consumer.close()
    got = replies(running=True)
    notes = [reply for reply in got if reply["status"] == "running"]
    assert len(got) == 3 and len(notes) == 1
    [note] = notes
    assert note["job_id"] == slow["job_id"] and note["worker"] == "w"
    assert set(note) == {"version", "job_id", "status", "worker", "started_at"}
    assert envelope.parse_timestamp(note["started_at"]) is not None


def test_no_running_note_trails_the_terminal_reply(sqs_queues, monkeypatch):
    # A quick job's reply waits in the outbox for more (the flush gap); meanwhile two jobs
    # pass the running threshold, their notes are queued, then they finish before the
    # batch leaves: only the three terminal replies go out, in one batch.
    from workers import outbox

    sent = []
    real = aws.send_batch

    def spy(queue, bodies):
        if queue == CALC.response_queue:
            sent.append(sorted(json.loads(body)["status"] for body in bodies.values()))
        return real(queue, bodies)

    monkeypatch.setattr(aws, "send_batch", spy)
    monkeypatch.setattr(outbox, "FLUSH_GAP_SECONDS", 3.0)
    monkeypatch.setattr(outbox, "FLUSH_MAX_SECONDS", 3.0)
    gate = threading.Event()

    def handler(message, context):
        if message["numbers"] == [1]:
            time.sleep(0.5)
            gate.set()
        elif message["numbers"] == [2]:
            gate.wait(5)
        return {}

    consumer = Consumer(CALC, handler, concurrency=3, visibility_timeout=30, worker="w",
                        running_after=0.1)
    aws.send_batch(CALC.request_queue, {str(n): json.dumps(request(numbers=[n]))
                                        for n in (0, 1, 2)})
    assert consumer.process_batch(wait_time=0) == 3
    consumer.close()
    assert sent == [["done"] * 3]
