"""Dead letters, the sweeper, progress notes, requeue and the queue dashboard."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calc.models import CalcJob
from jobs import tools
from tests.conftest import queue_depth
from workers import aws, envelope
from workers.reconcile import apply_message, drain_dead_letters
from workers.sweep import sweep

CALC = tools.get("calc")

pytestmark = pytest.mark.django_db


def make_job(**fields):
    return CalcJob.objects.create(numbers=[1, 2], owner="o", **fields)


def test_a_progress_reply_is_recorded_and_shown(client, sqs_queues):
    job = make_job(sent_at=timezone.now(), sends=1)
    note = envelope.progress(str(job.id), worker="w", error="ClientError: SlowDown", attempt=2)
    assert apply_message(CALC, json.dumps(note)) is True
    job.refresh_from_db()
    assert (job.status, job.retries, job.last_error) == ("queued", 2, "ClientError: SlowDown")
    assert job.progress_note == ("attempt 2 hit a temporary error (ClientError: SlowDown); "
                                 "retrying")


def test_a_progress_reply_after_the_end_changes_nothing(sqs_queues):
    job = make_job(status="done", result={"count": 2})
    note = envelope.progress(str(job.id), worker="w", error="late", attempt=3)
    assert apply_message(CALC, json.dumps(note)) is False
    job.refresh_from_db()
    assert job.last_error == "" and job.retries == 0


def test_a_dead_letter_fails_its_job_with_the_last_error(sqs_queues):
    job = make_job(sent_at=timezone.now(), sends=1, retries=5, last_error="OSError: S3 down")
    aws.send(CALC.request_dlq, job.request_body(reply_token="t"))
    aws.send(CALC.request_dlq, "not even json")
    assert drain_dead_letters(CALC) == 1
    job.refresh_from_db()
    assert job.status == "failed"
    assert job.error == "gave up after 5 attempts: OSError: S3 down"
    assert queue_depth(CALC.request_dlq) == {"visible": 0, "in_flight": 0}


def test_a_dead_letter_for_a_finished_job_changes_nothing(sqs_queues):
    job = make_job(status="done", result={"count": 2})
    aws.send(CALC.request_dlq, job.request_body(reply_token="t"))
    assert drain_dead_letters(CALC) == 0
    job.refresh_from_db()
    assert job.status == "done"


def test_the_sweeper_sends_what_was_never_sent(sqs_queues, settings):
    old = make_job(created_at=timezone.now() - timedelta(seconds=60))
    fresh = make_job()
    assert sweep(CALC) == {"sent": 1, "resent": 0, "timed_out": 0}
    old.refresh_from_db(), fresh.refresh_from_db()
    assert old.sends == 1 and old.sent_at is not None and fresh.sent_at is None
    assert queue_depth(CALC.request_queue)["visible"] == 1


def test_the_sweeper_resends_then_times_out(sqs_queues, settings):
    settings.CLOUDSITE_RESEND_SECONDS, settings.CLOUDSITE_MAX_SENDS = 600, 3
    long_ago = timezone.now() - timedelta(seconds=601)
    waiting = make_job(sent_at=long_ago, sends=1)
    hopeless = make_job(sent_at=long_ago, sends=3)
    recent = make_job(sent_at=timezone.now(), sends=1)
    assert sweep(CALC) == {"sent": 0, "resent": 1, "timed_out": 1}
    for job in (waiting, hopeless, recent):
        job.refresh_from_db()
    assert waiting.sends == 2 and waiting.status == "queued"
    assert hopeless.status == "failed" and hopeless.error == "timed out: no reply after 3 sends"
    assert recent.sends == 1


def test_the_sweeper_gives_up_on_a_job_it_never_could_send(sqs_queues, settings):
    settings.CLOUDSITE_RESEND_SECONDS, settings.CLOUDSITE_MAX_SENDS = 100, 3
    job = make_job(created_at=timezone.now() - timedelta(seconds=301))
    assert sweep(CALC)["timed_out"] == 1
    job.refresh_from_db()
    assert job.error == "timed out: it could not be sent to the queue"


def test_requeue_sends_again_and_keeps_the_count(admin_client, sqs_queues):
    job = make_job(status="failed", error="bug", sent_at=timezone.now(), sends=1)
    response = admin_client.post(reverse("admin:calc_calcjob_changelist"),
                                 {"action": "requeue", "_selected_action": [str(job.id)]},
                                 follow=True)
    assert "Requeued 1 jobs." in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.error, job.sends) == ("queued", "", 2)
    assert queue_depth(CALC.request_queue)["visible"] == 1


def test_the_queue_dashboard_reads_sqs(admin_client, sqs_queues):
    make_job(sent_at=timezone.now() - timedelta(seconds=42), sends=1)
    aws.send(CALC.request_queue, "x")
    aws.send(CALC.request_dlq, "y")
    page = admin_client.get(reverse("admin-queues"))
    rows = {row["name"]: row for row in page.context["rows"]}
    assert rows["cloudcal-requests"]["visible"] == 1
    assert 41 <= rows["cloudcal-requests"]["oldest_age"] <= 60
    assert rows["cloudcal-requests-dlq"]["visible"] == 1
    assert rows["cloudcal-requests-dlq"]["oldest_age"] is not None
    assert rows["cloudpic-inbox"]["visible"] == 0
    # Peeking left the dead letter visible.
    assert queue_depth(CALC.request_dlq)["visible"] == 1


def test_the_dashboard_is_for_staff_only(client):
    assert client.get(reverse("admin-queues")).status_code == 302


def test_the_admin_index_links_the_dashboard(admin_client):
    assert reverse("admin-queues") in admin_client.get(reverse("admin:index")).content.decode()
