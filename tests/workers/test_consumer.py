import json
import threading
import time
import uuid

import pytest

from jobs import tools
from tests.conftest import BUCKET, queue_depth
from tests.workers.batch import Consumer
from workers import aws, envelope
from workers.inhand import Held, State

CALC = tools.get("calc")


def send_raw(body: str) -> None:
    aws.send(CALC.request_queue, body)


def replies(running: bool = False) -> list[dict]:
    """The replies on the response queue; a job running past RUNNING_AFTER_SECONDS also
    gets a "running" note, left out unless asked for."""
    messages = aws.receive(CALC.response_queue, wait_time=0)
    bodies = [json.loads(message["Body"]) for message in messages]
    return [body for body in bodies if running or body["status"] != "running"]


def request(**fields) -> dict:
    return {"version": 1, "job_id": str(uuid.uuid4()), **fields}


@pytest.mark.parametrize("message, error", [
    ({"version": 1}, "bad input: numbers must be a list"),
    ({"version": 2, "numbers": [1]}, "unsupported message version 2"),
    ({"numbers": [1]}, "unsupported message version None"),
    ({"version": 1, "numbers": [1, "two"]}, "bad input: value 2 is not a number: 'two'"),
    ({"version": 1, "numbers": []}, "bad input: expected 1 to 10,000 numbers, got 0"),
    ({"version": 1, "numbers": [1e300]}, "within ±1e15"),
])
def test_bad_input_gets_a_failed_reply_and_is_deleted(calc_consumer, message, error):
    job_id = str(uuid.uuid4())
    send_raw(json.dumps({**message, "job_id": job_id}))
    assert calc_consumer.process_batch(wait_time=0) == 1
    [reply] = replies()
    assert reply["status"] == "failed" and reply["job_id"] == job_id
    assert error in reply["error"]
    assert reply["worker"] == "test-worker" and reply["version"] == 1
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 0}


@pytest.mark.parametrize("body", [
    "not json at all",
    "[1, 2, 3]",
    '{"version": 1, "numbers": [1]}',
    '{"version": 1, "job_id": "not-a-uuid", "numbers": [1]}',
])
def test_an_undecodable_body_is_left_for_the_dead_letter_queue(calc_consumer, body, caplog):
    send_raw(body)
    assert calc_consumer.process_batch(wait_time=0) == 1
    assert replies() == []
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 1}
    assert "undecodable message" in caplog.text


def test_an_undecodable_body_reaches_the_dead_letter_queue_after_five_receives(calc_consumer):
    send_raw("garbage")
    for _ in range(5):
        deadline = time.monotonic() + 5
        while calc_consumer.process_batch(wait_time=1) == 0 and time.monotonic() < deadline:
            pass
    # The next receive after the fifth moves it to the dead-letter queue instead.
    deadline = time.monotonic() + 5
    while queue_depth(CALC.request_dlq)["visible"] == 0 and time.monotonic() < deadline:
        assert calc_consumer.process_batch(wait_time=1) == 0
    [dead] = aws.receive(CALC.request_dlq, wait_time=0)
    assert dead["Body"] == "garbage"


def test_a_good_batch_and_a_bad_message_are_handled_together(calc_consumer, tmp_path):
    good = [request(numbers=[i, i + 2]) for i in range(4)]
    for message in good:
        send_raw(json.dumps(message))
    send_raw("{broken")
    handled = 0
    while (count := calc_consumer.process_batch(wait_time=0)) > 0:
        handled += count
    assert handled == 5
    got = {reply["job_id"]: reply for reply in replies()}
    assert {m["job_id"] for m in good} == set(got)
    assert all(got[m["job_id"]]["result"]["mean"] == m["numbers"][0] + 1 for m in good)


def test_a_transient_failure_reports_progress_and_comes_back(sqs_queues, caplog):
    calls = []

    def flaky(message, context):
        calls.append(context.receive_count)
        if len(calls) == 1:
            raise ConnectionError("S3 is having a bad minute")
        return {"result": {"ok": True}}

    consumer = Consumer(CALC, flaky, visibility_timeout=30, retry_delay=1, worker="w")
    send_raw(json.dumps(request(numbers=[1])))
    assert consumer.process_batch(wait_time=0) == 1
    [note] = replies()
    assert (note["status"], note["attempt"]) == ("retrying", 1)
    assert note["error"] == "ConnectionError: S3 is having a bad minute"
    assert "transient failure" in caplog.text
    # Back after the 1 s backoff, not after the 30 s visibility timeout.
    assert consumer.process_batch(wait_time=5) == 1
    [reply] = replies()
    assert reply["status"] == "done" and calls == [1, 2]
    consumer.close()


def test_retries_back_off_doubling_up_to_a_cap(sqs_queues):
    consumer = Consumer(CALC, visibility_timeout=30, retry_delay=10)
    assert [consumer.backoff(n) for n in (1, 2, 3, 4, 5, 12)] == [10, 20, 40, 80, 160, 900]
    consumer.close()


def test_a_slow_job_keeps_its_message_hidden_by_heartbeat(sqs_queues):
    seen = []

    def slow(message, context):
        seen.append(queue_depth(CALC.request_queue))
        time.sleep(2.5)  # longer than the 1 s visibility timeout
        seen.append(queue_depth(CALC.request_queue))
        return {}

    consumer = Consumer(CALC, slow, visibility_timeout=1, worker="w")
    send_raw(json.dumps(request()))
    assert consumer.process_batch(wait_time=0) == 1
    assert seen == [{"visible": 0, "in_flight": 1}] * 2
    assert sorted(reply["status"] for reply in replies(running=True)) == ["done", "running"]
    consumer.close()


def test_after_stop_unstarted_messages_are_handed_back_at_once(sqs_queues):
    consumer = Consumer(CALC, lambda message, context: consumer.stop() or {},
                        visibility_timeout=30, worker="w")
    for _ in range(3):
        send_raw(json.dumps(request()))
    handled = consumer.process_batch(wait_time=1)
    consumer.close()
    assert handled >= 1
    # The first finished and replied; the rest are visible again without waiting 30 s.
    assert len(replies()) == 1
    assert queue_depth(CALC.request_queue) == {"visible": 2, "in_flight": 0}


def test_run_once_drains_the_queue_and_returns(calc_consumer):
    for i in range(12):
        send_raw(json.dumps(request(numbers=[i])))
    assert calc_consumer.run(once=True) == 12
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 0}


def test_concurrency_handles_a_batch_in_parallel(sqs_queues):
    # Each job waits for all five to be running at once; run one by one, they would time out.
    barrier = threading.Barrier(5, timeout=5)
    consumer = Consumer(CALC, lambda message, context: barrier.wait() and {} or {},
                        concurrency=5, visibility_timeout=30, worker="w")
    for _ in range(5):
        send_raw(json.dumps(request()))
    deadline = time.monotonic() + 10
    handled = 0
    while handled < 5 and time.monotonic() < deadline:
        handled += consumer.process_batch(wait_time=1)
    consumer.close()
    assert not barrier.broken
    assert [reply["status"] for reply in replies()] == ["done"] * 5


def test_the_envelope_refuses_an_oversized_body():
    with pytest.raises(ValueError, match="larger than"):
        envelope.encode({"blob": "x" * envelope.MAX_BODY_BYTES})


def test_a_reply_too_large_to_send_becomes_a_failed_reply(sqs_queues):
    consumer = Consumer(CALC, lambda message, context: {"blob": "x" * envelope.MAX_BODY_BYTES},
                        visibility_timeout=5, worker="w")
    send_raw(json.dumps(request()))
    consumer.process_batch(wait_time=0)
    [reply] = replies()
    assert reply["status"] == "failed" and "could not be sent" in reply["error"]
    consumer.close()


def test_the_heartbeat_also_hides_messages_waiting_for_a_thread(sqs_queues):
    seen = []

    def slow(message, context):
        if not seen:
            time.sleep(2.5)  # longer than the 1 s visibility timeout, one thread only
            seen.append(queue_depth(CALC.request_queue))
        return {}

    consumer = Consumer(CALC, slow, concurrency=1, visibility_timeout=1, worker="w")
    for _ in range(2):
        send_raw(json.dumps(request()))
    assert consumer.process_batch(wait_time=0) == 2
    consumer.close()
    # The second message, received with the first and waiting for the thread, stayed hidden.
    assert seen == [{"visible": 0, "in_flight": 2}]
    assert len({reply["job_id"] for reply in replies()}) == 2


def test_replies_of_jobs_finishing_one_after_another_share_one_batch(sqs_queues, monkeypatch):
    # Ten jobs finishing 20 ms apart (a busy worker's pace): one send and one delete for
    # all ten, not a call per few jobs; the gap is well under FLUSH_GAP_SECONDS.
    sizes = {"send": [], "delete": []}
    for name, real in (("send", aws.send_batch), ("delete", aws.delete_batch)):
        def spy(queue, entries, name=name, real=real):
            sizes[name].append(len(entries))
            return real(queue, entries)
        monkeypatch.setattr(aws, f"{name}_batch", spy)
    order = iter(range(10))

    def staggered(message, context):
        time.sleep(0.02 * next(order))
        return {}

    consumer = Consumer(CALC, staggered, concurrency=10, visibility_timeout=30, worker="w")
    aws.send_batch(CALC.request_queue, {str(i): json.dumps(request()) for i in range(10)})
    sizes["send"].clear()
    assert consumer.process_batch(wait_time=0) == 10
    consumer.close()
    assert sizes == {"send": [10], "delete": [10]}
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 0}


def test_room_counts_running_jobs_against_capacity_and_finished_ones_against_a_batch_more(
        calc_consumer):
    # concurrency 1: capacity 11, so a full batch of 10 fits beside one unfinished job,
    # and finished jobs waiting in the outbox may fill one further batch.
    hand = calc_consumer.hand
    with hand.lock:
        assert hand.room_locked()
        hand.records.update({str(n): Held(str(n), {}, State.FINISHED) for n in range(11)})
        hand.unfinished = 1
        assert hand.room_locked()  # 1 running + 10 <= 11; 11 in hand + 10 <= 21
        assert hand.free_locked() == 10
        hand.unfinished = 2
        assert not hand.room_locked()  # 2 running + 10 > 11
        hand.unfinished = 0
        hand.records["11"] = Held("11", {}, State.FINISHED)
        assert not hand.room_locked()  # 12 in hand + 10 > 21, though nothing runs
        hand.records.clear()


def test_one_s3_client_is_made_before_the_first_receive_and_shared_by_the_jobs(
        s3_bucket, monkeypatch):
    # django-storages makes a boto3 session per thread on first use (0.1-0.35 s of CPU
    # each): the job threads share one client instead, made before any message is in hand.
    from storages.backends.s3 import S3Storage

    events = []
    real_session, real_receive = S3Storage._create_session, aws.receive

    def session(storage):
        events.append(("session", threading.current_thread().name))
        return real_session(storage)

    def receive(queue, **kwargs):
        events.append(("receive", threading.current_thread().name))
        return real_receive(queue, **kwargs)

    monkeypatch.setattr(S3Storage, "_create_session", session)
    monkeypatch.setattr(aws, "receive", receive)
    consumer = Consumer(CALC, concurrency=3, visibility_timeout=30, worker="w")
    for i in range(6):
        send_raw(json.dumps(request(numbers=[i])))
    try:
        assert consumer.run(once=True) == 6
    finally:
        consumer.close()
    # One session, for the one client, before the first receive; the six jobs (each wrote
    # a log to S3, in three threads) made no more.
    assert [kind for kind, _ in events[:2]] == ["session", "receive"]
    assert [kind for kind, _ in events].count("session") == 1
    assert len(s3_bucket.list_objects_v2(Bucket=BUCKET)["Contents"]) == 6


def test_a_failure_to_prepare_the_clients_is_logged_and_the_worker_goes_on(
        calc_consumer, monkeypatch, caplog):
    from workers import files

    def broken():
        raise RuntimeError("no credentials")

    monkeypatch.setattr(files, "prepare", broken)
    send_raw(json.dumps(request(numbers=[1])))
    assert calc_consumer.run(once=True) == 1
    assert "clients not prepared: RuntimeError: no credentials" in caplog.text
