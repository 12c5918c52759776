"""Replies are bound to the request that caused them (a token per send), and the running
state: what a reply may change, through the real reconciler."""

import json

import pytest

from calc.models import CalcJob
from jobs import tools
from workers import aws, envelope
from workers.reconcile import apply_message, reconcile

CALC = tools.get("calc")
RESULT = {"count": 2, "min": 1, "max": 3, "mean": 2.0, "median": 2.0}

pytestmark = pytest.mark.django_db


def sent_job() -> tuple[CalcJob, dict]:
    """A job sent to the queue, and the request a worker would receive."""
    job = CalcJob.objects.create(numbers=[1, 3], owner="victim")
    assert job.send()
    [message] = aws.receive(CALC.request_queue, wait_time=0)
    job.refresh_from_db()
    return job, json.loads(message["Body"])


def answer(request: dict, status: str, token: str | None = "", **fields) -> str:
    job_id = request["job_id"]
    if status == "done":
        reply = envelope.reply(job_id, worker="w", started_at=envelope.timestamp(), result={
            "result": {**RESULT, **fields}, "log_key": f"logs/calc/{job_id}.log"})
    elif status == "failed":
        reply = envelope.reply(job_id, worker="w", started_at=envelope.timestamp(),
                               error="Your job failed: log in at http://evil.example")
    elif status == "retrying":
        reply = envelope.progress(job_id, worker="w", error="note from a stranger", attempt=1)
    else:
        reply = {"version": 1, "job_id": job_id, "status": status, "worker": "w",
                 "started_at": envelope.timestamp()}
    if token == "":  # the genuine worker's: echo the request's token
        return json.dumps(envelope.bind(reply, envelope.reply_token(request)))
    if token is not None:
        reply["reply_token"] = token
    return json.dumps(reply)


@pytest.mark.parametrize("status", ["done", "failed", "retrying", "running"])
@pytest.mark.parametrize("token", [None, "guessed", "x" * 101])
def test_a_forged_reply_changes_nothing_and_the_genuine_one_lands(sqs_queues, status, token):
    job, request = sent_job()
    before = CalcJob.objects.values().get(pk=job.pk)
    forged = answer(request, status, token=token, mean=2.5)
    assert apply_message(CALC, forged) is False
    assert CalcJob.objects.values().get(pk=job.pk) == before
    assert apply_message(CALC, answer(request, "done")) is True
    job.refresh_from_db()
    assert (job.status, job.result) == ("done", RESULT)


def test_a_reply_to_an_earlier_send_is_refused(sqs_queues):
    job, first = sent_job()
    assert job.send()  # the sweeper re-sent it: a new token
    [second] = aws.receive(CALC.request_queue, wait_time=0)
    assert apply_message(CALC, answer(first, "done")) is False
    assert apply_message(CALC, answer(json.loads(second["Body"]), "done")) is True


def test_a_row_sent_before_tokens_existed_takes_a_reply_without_one(sqs_queues):
    job, request = sent_job()
    CalcJob.objects.filter(pk=job.pk).update(reply_token_hash="")
    assert apply_message(CALC, answer(request, "done", token=None)) is True


def test_running_then_done_and_a_retry_sends_it_back_to_waiting(sqs_queues):
    job, request = sent_job()
    assert apply_message(CALC, answer(request, "running")) is True
    job.refresh_from_db()
    assert job.status == "running" and job.started_at and job.progress_note == "running on w"
    assert apply_message(CALC, answer(request, "running")) is False  # already running
    assert apply_message(CALC, answer(request, "retrying")) is True
    job.refresh_from_db()
    assert (job.status, job.retries) == ("queued", 1)
    assert apply_message(CALC, answer(request, "done")) is True
    assert apply_message(CALC, answer(request, "running")) is False  # never after the end
    job.refresh_from_db()
    assert job.status == "done"


def test_a_running_job_can_be_cancelled_and_swept(sqs_queues, settings):
    job, request = sent_job()
    apply_message(CALC, answer(request, "running"))
    job.refresh_from_db()
    assert job.cancel() and job.status == "cancelled"
    assert apply_message(CALC, answer(request, "done")) is False


def test_the_reconciler_applies_a_running_reply_from_the_queue(sqs_queues):
    job, request = sent_job()
    aws.send(CALC.response_queue, answer(request, "running"))
    assert reconcile(CALC) == 1
    job.refresh_from_db()
    assert job.status == "running"
