import logging
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

from workers import aws

pytestmark = pytest.mark.django_db


@override_settings(ALLOWED_HOSTS=["cloudsite.example.com"], SECURE_SSL_REDIRECT=True)
def test_it_answers_a_load_balancer_on_the_instance_ip(client, sqs_queues, caplog):
    with caplog.at_level(logging.INFO, logger="django.request"):
        response = client.get("/healthz", HTTP_HOST="10.0.1.23")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert caplog.records == []


@override_settings(ALLOWED_HOSTS=["cloudsite.example.com"], SECURE_SSL_REDIRECT=True)
def test_the_rest_of_the_site_still_checks_host_and_scheme(client, sqs_queues):
    assert client.get("/", HTTP_HOST="10.0.1.23").status_code == 400
    response = client.get("/", HTTP_HOST="cloudsite.example.com")
    assert response.status_code == 301
    assert response["Location"] == "https://cloudsite.example.com/"


def test_it_answers_503_naming_the_database_when_it_is_down(client, sqs_queues):
    with mock.patch("django.db.backends.utils.CursorWrapper.execute",
                    side_effect=OperationalError("connection refused")):
        response = client.get("/healthz", HTTP_HOST="10.0.1.23")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failed": ["database: OperationalError"]}


def test_it_answers_503_naming_queues_that_do_not_resolve(client, settings, sqs_queues):
    settings.CLOUDSITE_QUEUE_PREFIX = "missing-"
    aws.reset()
    response = client.get("/healthz", HTTP_HOST="10.0.1.23")
    assert response.status_code == 503
    failed = response.json()["failed"]
    assert len(failed) == 1 and failed[0].startswith("queues: ")
    assert "cloudcal-requests," in failed[0]
    assert "cloudpic-inbox-dlq" in failed[0]


def test_it_never_receives_from_a_queue(client, sqs_queues):
    with mock.patch.object(aws, "receive", side_effect=AssertionError("received")):
        assert client.get("/healthz").status_code == 200
