"""Run only under tests/thirdtool/settings.py (tests/workers/test_registry.py does):
the third tool shows up everywhere the registry reaches."""

from io import StringIO

import pytest
from django.core.management import call_command

from tests.workers.batch import Consumer
from workers import aws, tools
from workers.reconcile import reconcile
from workers.web import OWNER_KEY

from .models import EchoJob

pytestmark = pytest.mark.django_db

ECHO_QUEUES = {"cloudecho-requests", "cloudecho-requests-dlq", "cloudecho-responses",
               "cloudecho-responses-dlq"}


def test_it_is_installed_next_to_calc_and_pic():
    assert [tool.name for tool in tools.installed()] == ["calc", "pic", "echo"]
    assert EchoJob.tool is tools.get("echo") and tools.get("echo").model is EchoJob


def test_the_nav_and_home_page_show_it(client):
    page = client.get("/").content.decode()
    assert '<a href="/thirdtool/">CloudEcho</a>' in page
    assert "Says back what it was sent" in page


def test_setup_aws_creates_its_queues(sqs_queues):
    out = StringIO()
    call_command("setup_aws", stdout=out)
    urls = aws.sqs().list_queues()["QueueUrls"]
    assert ECHO_QUEUES <= {url.rsplit("/", 1)[1] for url in urls}
    assert "queue cloudecho-responses-dlq: ready" in out.getvalue()


def test_runlocal_starts_a_worker_for_it():
    from workers.management.commands.runlocal import Command

    assert ["run_worker", "echo"] in Command.children()


def test_a_job_goes_through_the_consumer_and_the_reconciler(sqs_queues, client, admin_client):
    session = client.session
    session[OWNER_KEY] = "owner-1"
    session.save()
    job = EchoJob.objects.create(word="hi", owner="owner-1")
    assert job.send()
    consumer = Consumer(tools.get("echo"), worker="echo-worker")
    try:
        assert consumer.process_batch(wait_time=0) == 1
    finally:
        consumer.close()
    assert reconcile(tools.get("echo")) == 1
    job.refresh_from_db()
    assert (job.status, job.echo, job.worker) == ("done", "hi hi", "echo-worker")
    home = client.get("/").content.decode()
    assert f'href="/thirdtool/jobs/{job.id}/"' in home
    queues = admin_client.get("/admin/queues/").content.decode()
    assert all(f'data-queue="{name}"' in queues for name in ECHO_QUEUES)
