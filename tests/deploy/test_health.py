"""/healthz (liveness, the load balancer's path) and /readyz (readiness)."""

import logging
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

from workers import aws

pytestmark = pytest.mark.django_db

DATABASE_DOWN = mock.patch("django.db.backends.utils.CursorWrapper.execute",
                           side_effect=OperationalError("connection refused"))


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
@override_settings(ALLOWED_HOSTS=["cloudsite.example.com"], SECURE_SSL_REDIRECT=True)
def test_it_answers_a_load_balancer_on_the_instance_ip(client, sqs_queues, caplog, path):
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = client.get(path, HTTP_HOST="10.0.1.23")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert caplog.records == []


@override_settings(ALLOWED_HOSTS=["cloudsite.example.com"], SECURE_SSL_REDIRECT=True)
def test_the_rest_of_the_site_still_checks_host_and_scheme(client, sqs_queues):
    assert client.get("/", HTTP_HOST="10.0.1.23").status_code == 400
    response = client.get("/", HTTP_HOST="cloudsite.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://cloudsite.example.com/"


def test_with_the_database_unreachable_liveness_is_200_and_readiness_503(client, sqs_queues):
    with DATABASE_DOWN as execute:
        live = client.get("/healthz", HTTP_HOST="10.0.1.23")
        ready = client.get("/readyz", HTTP_HOST="10.0.1.23")
    # The patch is live: readiness did try the database and met the failure.
    assert execute.called
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "failed": ["database: OperationalError"]}


def test_with_sqs_unreachable_liveness_is_200_and_readiness_names_the_queues(
        client, settings, sqs_queues):
    settings.CLOUDSITE_QUEUE_PREFIX = "missing-"
    aws.reset()
    assert client.get("/healthz", HTTP_HOST="10.0.1.23").status_code == 200
    response = client.get("/readyz", HTTP_HOST="10.0.1.23")
    assert response.status_code == 503
    failed = response.json()["failed"]
    assert len(failed) == 1 and failed[0].startswith("queues: ")
    assert "cloudcal-requests," in failed[0]
    assert "cloudpic-inbox-dlq" in failed[0]


def test_liveness_touches_neither_the_database_nor_sqs(client):
    # No sqs_queues fixture: any SQS call would fail, and so would any query.
    with DATABASE_DOWN as execute, mock.patch.object(
            aws, "queue_url", side_effect=AssertionError("asked SQS")) as queue_url:
        assert client.get("/healthz").status_code == 200
    assert not execute.called and not queue_url.called


def test_readiness_never_receives_from_a_queue(client, sqs_queues):
    with mock.patch.object(aws, "receive", side_effect=AssertionError("received")):
        assert client.get("/readyz").status_code == 200


def test_only_get_and_head_are_answered_early(client, sqs_queues):
    assert client.head("/healthz", HTTP_HOST="10.0.1.23").status_code == 200
    # POST goes through the normal stack: the instance IP is not an allowed host.
    assert client.post("/healthz", HTTP_HOST="10.0.1.23").status_code == 400
