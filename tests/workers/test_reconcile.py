import json
import uuid

import pytest
from botocore.exceptions import ClientError

from calc.models import CalcJob
from jobs import tools
from tests.conftest import queue_depth
from workers import aws, envelope
from workers.reconcile import apply_message, reconcile

CALC = tools.get("calc")

pytestmark = pytest.mark.django_db

RESULT = {"count": 2, "min": 1, "max": 3, "mean": 2.0, "median": 2.0}


@pytest.fixture
def job():
    return CalcJob.objects.create(numbers=[1, 3], owner="someone")


def done(job_id, **extra):
    return json.dumps(envelope.reply(str(job_id), worker="w1", started_at=envelope.timestamp(),
                                     result={"result": RESULT,
                                             "log_key": f"logs/calc/{job_id}.log", **extra}))


def failed(job_id, error="bad"):
    return json.dumps(envelope.reply(str(job_id), worker="w2", started_at=envelope.timestamp(),
                                     error=error))


def test_a_done_reply_fills_the_job(job):
    assert apply_message(CALC, done(job.id)) is True
    job.refresh_from_db()
    assert (job.status, job.result, job.worker) == ("done", RESULT, "w1")
    assert job.log_key == f"logs/calc/{job.id}.log" and job.finished_at >= job.started_at


def test_the_first_terminal_reply_wins(job):
    assert apply_message(CALC, done(job.id)) is True
    assert apply_message(CALC, failed(job.id)) is False
    assert apply_message(CALC, done(job.id)) is False
    job.refresh_from_db()
    assert job.status == "done" and job.error == "" and job.worker == "w1"


def test_a_failed_reply_records_the_reason(job):
    assert apply_message(CALC, failed(job.id, "bad input: value 2 is not a number")) is True
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "bad input: value 2 is not a number"
    assert job.result is None


@pytest.mark.parametrize("body", [
    "nonsense",
    json.dumps({"version": 1, "job_id": str(uuid.uuid4())}),
    json.dumps({"version": 1, "job_id": str(uuid.uuid4()), "status": "started"}),
    json.dumps({"version": 2, "job_id": str(uuid.uuid4()), "status": "done"}),
])
def test_unusable_replies_are_dropped(sqs_queues, job, body, caplog):
    assert apply_message(CALC, body) is False
    assert "unusable reply" in caplog.text
    # ... to the response dead-letter queue, so a copy is kept (issue 17).
    assert [m["Body"] for m in aws.receive(CALC.response_dlq, wait_time=0)] == [body]


def test_a_reply_that_cannot_be_dead_lettered_comes_back(sqs_queues, job, caplog, monkeypatch):
    def refuse(queue, body):
        raise ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")
    monkeypatch.setattr(aws, "send", refuse)
    # The copy could not be made, so the original must stay to come back.
    assert apply_message(CALC, "nonsense") is None
    assert "could not dead-letter" in caplog.text


def test_a_done_reply_without_a_result_is_dropped(sqs_queues, job, caplog):
    body = json.dumps(envelope.reply(str(job.id), worker="w", started_at=envelope.timestamp(),
                                     result={"result": {"count": "many"}}))
    assert apply_message(CALC, body) is False
    job.refresh_from_db()
    assert job.status == "queued" and "malformed reply" in caplog.text


def test_a_reply_for_an_unknown_job_is_dropped(caplog):
    assert apply_message(CALC, done(uuid.uuid4())) is False
    assert "unknown job" in caplog.text


def test_reconcile_drains_the_queue_in_batches(sqs_queues):
    jobs = [CalcJob.objects.create(numbers=[1, 3], owner="o") for _ in range(23)]
    for job in jobs:
        aws.send(CALC.response_queue, done(job.id))
    aws.send(CALC.response_queue, done(uuid.uuid4()))
    assert reconcile(CALC) == 23
    assert set(CalcJob.objects.values_list("status", flat=True)) == {"done"}
    assert queue_depth(CALC.response_queue) == {"visible": 0, "in_flight": 0}


def test_reconcile_keeps_a_reply_it_could_not_record(sqs_queues, job, monkeypatch):
    def broken(self, reply):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(CalcJob, "apply_reply", broken)
    aws.send(CALC.response_queue, done(job.id))
    assert reconcile(CALC) == 0
    assert queue_depth(CALC.response_queue) == {"visible": 0, "in_flight": 1}


def test_a_reply_that_fails_to_apply_five_times_lands_in_the_response_dlq(sqs_queues, job,
                                                                          monkeypatch):
    tries = []

    def database_down(self, reply):
        tries.append(reply["job_id"])
        raise RuntimeError("database is locked")

    monkeypatch.setattr(CalcJob, "apply_reply", database_down)
    # Every reply comes back at once instead of after the visibility timeout.
    aws.sqs().set_queue_attributes(QueueUrl=aws.queue_url(CALC.response_queue),
                                   Attributes={"VisibilityTimeout": "0"})
    aws.send(CALC.response_queue, done(job.id))
    for _ in range(10):
        assert reconcile(CALC) == 0
        if queue_depth(CALC.response_dlq)["visible"]:
            break
    assert tries == [str(job.id)] * aws.MAX_RECEIVE_COUNT
    assert queue_depth(CALC.response_queue) == {"visible": 0, "in_flight": 0}
    [dead] = aws.receive(CALC.response_dlq, wait_time=0)
    assert json.loads(dead["Body"])["job_id"] == str(job.id)
    job.refresh_from_db()
    assert job.status == "queued"


def test_setup_aws_gives_response_queues_a_redrive_policy(sqs_queues):
    for tool in tools.installed():
        attributes = aws.sqs().get_queue_attributes(
            QueueUrl=aws.queue_url(tool.response_queue), AttributeNames=["RedrivePolicy"])
        policy = json.loads(attributes["Attributes"]["RedrivePolicy"])
        assert int(policy["maxReceiveCount"]) == aws.MAX_RECEIVE_COUNT
        assert policy["deadLetterTargetArn"].endswith(":" + tool.response_dlq)
