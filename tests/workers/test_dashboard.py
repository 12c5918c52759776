"""The admin: every queue on the Queues page, and the job columns every tool shares."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calc.models import CalcJob
from jobs import tools
from workers import aws

pytestmark = pytest.mark.django_db


def test_the_queues_page_shows_every_queue_with_its_counts(admin_client, sqs_queues):
    calc = tools.get("calc")
    aws.send(calc.response_dlq, "a reply nobody could apply")
    aws.send(calc.request_queue, "a request")
    response = admin_client.get(reverse("admin-queues"))
    rows = {row["name"]: row for row in response.context["rows"]}
    expected = {name for tool in tools.installed() for name, _ in tool.queues()}
    assert set(rows) == expected == {
        "cloudcal-requests", "cloudcal-requests-dlq", "cloudcal-responses",
        "cloudcal-responses-dlq", "cloudpic-inbox", "cloudpic-inbox-dlq", "cloudpic-outbox",
        "cloudpic-outbox-dlq"}
    assert rows["cloudcal-responses-dlq"]["visible"] == 1
    assert rows["cloudcal-requests"]["visible"] == 1
    assert rows["cloudpic-outbox-dlq"]["visible"] == 0
    assert 'data-queue="cloudpic-outbox-dlq"' in response.content.decode()
    # Looking must not count as a receive of a reply (its redrive limit).
    assert aws.queue_counts(calc.response_queue) == {"visible": 0, "in_flight": 0}


def test_the_changelist_names_turnaround_and_run_time_apart(admin_client):
    created = timezone.now() - timedelta(seconds=30)
    CalcJob.objects.create(
        numbers=[1], owner="o", status="done", created_at=created,
        started_at=created + timedelta(seconds=20),
        finished_at=created + timedelta(seconds=20, milliseconds=250),
        result={"count": 1, "min": 1, "max": 1, "mean": 1, "median": 1})
    page = admin_client.get(reverse("admin:calc_calcjob_changelist")).content.decode()
    assert "turnaround" in page and ">took<" not in page
    assert "20.25 s" in page  # submitted to finished
    assert "250 ms" in page  # started to finished on the worker
