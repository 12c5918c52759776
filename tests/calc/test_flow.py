"""The whole CloudCal flow in one process: form → SQS → worker step → reply → reconcile."""

import json

import pytest
from django.urls import reverse

from calc.models import CalcJob
from jobs import tools
from jobs.replies import token_digest
from tests.conftest import BUCKET, queue_depth
from workers.reconcile import reconcile

CALC = tools.get("calc")

pytestmark = pytest.mark.django_db


def submit(client, capture, numbers: str):
    with capture(execute=True):
        response = client.post(reverse("calc:submit"), {"numbers": numbers})
    assert response.status_code == 302
    return CalcJob.objects.get(), response["Location"]


def test_a_job_goes_from_form_to_figures(client, s3_bucket, calc_consumer,
                                         django_capture_on_commit_callbacks):
    job, location = submit(client, django_capture_on_commit_callbacks, "4, 8, 15, 16, 23, 42")
    assert location == f"/calc/jobs/{job.id}/"
    assert job.status == "queued" and job.numbers == [4, 8, 15, 16, 23, 42]
    job.refresh_from_db()
    assert job.sent_at is not None and job.sends == 1

    assert calc_consumer.process_batch(wait_time=0) == 1
    assert queue_depth(CALC.request_queue) == {"visible": 0, "in_flight": 0}

    # The status view drains the response queue itself before it answers.
    status = client.get(reverse("calc:status", args=[job.id])).json()
    assert status == {
        "id": str(job.id), "status": "done",
        "result": {"count": 6, "min": 4, "max": 42, "mean": 18.0, "median": 15.5},
    }
    job.refresh_from_db()
    assert job.worker == "test-worker" and job.log_key == f"logs/calc/{job.id}.log"
    assert job.started_at <= job.finished_at

    page = client.get(location).content.decode()
    assert '<td data-stat="mean">18</td>' in page  # rounded for people: 18.0 reads 18
    assert '<td data-stat="median">15.5</td>' in page
    assert "<svg class=\"chart line\"" in page and "poll.js" not in page

    log = s3_bucket.get_object(Bucket=BUCKET, Key=f"logs/calc/{job.id}.log")["Body"].read()
    assert f"job_id: {job.id}".encode() in log and b"mean: 18.0" in log
    assert b"[4, 8, 15, 16, 23, 42]" in log

    # On S3 the log link is a presigned URL to the private object.
    response = client.get(reverse("calc:log", args=[job.id]))
    assert response.status_code == 302
    assert f"logs/calc/{job.id}.log" in response["Location"]
    assert "Signature" in response["Location"] and "Expires" in response["Location"]


def test_a_queued_job_page_polls_its_status(client, sqs_queues,
                                            django_capture_on_commit_callbacks):
    job, location = submit(client, django_capture_on_commit_callbacks, "1 2 3")
    page = client.get(location).content.decode()
    assert "poll.js" in page
    assert f'data-status-url="/calc/jobs/{job.id}/status"' in page
    assert client.get(reverse("calc:status", args=[job.id])).json() == {
        "id": str(job.id), "status": "queued", "note": "waiting for a worker"}


def test_a_bad_form_makes_no_job_and_sends_nothing(client, sqs_queues,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("calc:submit"), {"numbers": "1, <b>two</b>, 3"})
    assert response.status_code == 200
    assert "&lt;b&gt;two&lt;/b&gt;" in response.content.decode()
    assert "<b>two</b>" not in response.content.decode()
    assert callbacks == [] and CalcJob.objects.count() == 0
    assert queue_depth(CALC.request_queue)["visible"] == 0


def test_the_request_message_follows_the_wire_format(client, sqs_queues,
                                                      django_capture_on_commit_callbacks):
    job, _ = submit(client, django_capture_on_commit_callbacks, "1 2.5 -3")
    from workers import aws
    message = json.loads(aws.receive(CALC.request_queue, wait_time=0)[0]["Body"])
    token = message.pop("reply_token")
    assert message == {"version": 1, "job_id": str(job.id), "numbers": [1, 2.5, -3]}
    # The row keeps only the token's hash; the reply must echo the token itself.
    job.refresh_from_db()
    assert job.reply_token_hash == token_digest(token) and token not in job.reply_token_hash


def test_a_failed_send_still_gives_a_job_page(client, settings,
                                              django_capture_on_commit_callbacks):
    # No emulator and an endpoint nobody listens on: SQS is unreachable.
    settings.AWS_ENDPOINT_URL = "http://127.0.0.1:9"
    from workers import aws
    aws.reset()
    try:
        job, location = submit(client, django_capture_on_commit_callbacks, "1 2 3")
        job.refresh_from_db()
        assert job.sent_at is None and job.sends == 0
        assert "waiting to be sent" in client.get(location).content.decode()
        assert client.get(reverse("calc:status", args=[job.id])).json()["note"] == (
            "waiting to be sent to the queue")
    finally:
        aws.reset()


def test_reconcile_applies_each_reply_once(client, sqs_queues, calc_consumer,
                                           django_capture_on_commit_callbacks):
    job, _ = submit(client, django_capture_on_commit_callbacks, "5 6")
    job.send()  # a duplicate delivery of the same request
    assert calc_consumer.process_batch(wait_time=0) == 2
    assert reconcile(CALC) == 1  # two replies, one applied
    job.refresh_from_db()
    assert job.status == "done" and job.result["mean"] == 5.5 and job.sends == 2
    assert queue_depth(CALC.response_queue) == {"visible": 0, "in_flight": 0}
