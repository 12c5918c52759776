"""Run only under tests/thirdtool/settings.py (tests/workers/test_registry.py does): a
tool that is a model, a handler and an apps.py, and nothing else, works everywhere."""

import json
import os
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from cloudsite.models import ApiToken
from cloudsite.pages import OWNER_KEY
from jobs import tools
from tests.browser import worker_thread
from tests.workers.batch import Consumer
from workers import aws
from workers.reconcile import reconcile

from .models import EchoJob

pytestmark = pytest.mark.django_db

ECHO_QUEUES = {"cloudecho-requests", "cloudecho-requests-dlq", "cloudecho-responses",
               "cloudecho-responses-dlq"}


def run_one(job: EchoJob) -> None:
    consumer = Consumer(tools.get("echo"), worker="echo-worker")
    try:
        assert consumer.process_batch(wait_time=0) == 1
    finally:
        consumer.close()
    assert reconcile(tools.get("echo")) == 1
    job.refresh_from_db()


def test_it_is_installed_next_to_calc_and_pic():
    assert [tool.name for tool in tools.installed()] == ["calc", "pic", "echo"]
    assert EchoJob.tool is tools.get("echo") and tools.get("echo").model is EchoJob
    assert tools.get("echo").handler == "tests.thirdtool.handler.handle"


def test_the_nav_and_home_page_show_it(client):
    page = client.get("/").content.decode()
    assert '<a href="/thirdtool/">CloudEcho</a>' in page
    assert "Says back what it was sent" in page


def test_its_generic_pages_take_a_job_and_show_its_result(client, sqs_queues,
                                                         django_capture_on_commit_callbacks):
    form = client.get("/thirdtool/").content.decode()
    assert 'name="word"' in form and "Echo a word" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/thirdtool/", {"word": "hi"})
    job = EchoJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/thirdtool/jobs/{job.id}/"
    assert job.owner == client.session[OWNER_KEY] and job.sent_at is not None
    assert "queued" in client.get(response["Location"]).content.decode()
    run_one(job)
    page = client.get(response["Location"]).content.decode()
    assert 'data-field="echo">hi hi<' in page
    status = client.get(f"/thirdtool/jobs/{job.id}/status").json()
    assert status["status"] == "done" and status["result"] == {"echo": "hi hi"}
    # Another browser session gets 404, as for every tool.
    client.cookies.clear()
    assert client.get(response["Location"]).status_code == 404


def test_the_api_lists_gets_and_cancels_it(client, sqs_queues):
    user = get_user_model().objects.create_user("ada")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {ApiToken.issue(user, 't')[1]}"
    done = EchoJob.objects.create(word="a", user=user, status="done", echo="a a")
    queued = EchoJob.objects.create(word="b", user=user)
    assert {t["name"] for t in client.get("/api/v1/tools").json()} == {"calc", "pic", "echo"}
    page = client.get("/api/v1/jobs").json()
    assert page["count"] == 2 and [j["id"] for j in page["items"]] == [str(queued.id),
                                                                      str(done.id)]
    assert client.get("/api/v1/jobs?tool=echo&status=done").json()["items"][0]["result"] == {
        "echo": "a a"}
    got = client.get(f"/api/v1/jobs/{done.id}").json()
    assert got["tool"] == "echo" and got["url"].endswith(f"/api/v1/echo/jobs/{done.id}")
    assert client.get(got["url"]).json()["id"] == str(done.id)
    cancelled = client.post(f"/api/v1/echo/jobs/{queued.id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.post(f"/api/v1/echo/jobs/{done.id}/cancel").status_code == 409


def test_the_admin_browses_it(admin_client):
    job = EchoJob.objects.create(word="hi", status="done", echo="hi hi")
    listing = admin_client.get("/admin/thirdtool/echojob/")
    assert listing.status_code == 200 and str(job.id) in listing.content.decode()
    change = admin_client.get(f"/admin/thirdtool/echojob/{job.id}/change/").content.decode()
    assert "hi hi" in change and "Word" in change


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
    run_one(job)
    assert (job.status, job.echo, job.worker) == ("done", "hi hi", "echo-worker")
    home = client.get("/").content.decode()
    assert f'href="/thirdtool/jobs/{job.id}/"' in home
    queues = admin_client.get("/admin/queues/").content.decode()
    assert all(f'data-queue="{name}"' in queues for name in ECHO_QUEUES)


@pytest.mark.django_db(transaction=True)
def test_the_client_lists_shows_and_cancels_it(live_server, server_queues, tmp_path):
    user = get_user_model().objects.create_user("ada")
    token = ApiToken.issue(user, "client")[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLOUDSITE")}
    env.update(CLOUDSITE_URL=live_server.url, CLOUDSITE_TOKEN=token, NO_COLOR="1",
               XDG_CONFIG_HOME=str(tmp_path), COLUMNS="200")

    def cloudsite(*args):
        return subprocess.run([sys.executable, "-m", "cloudsite_client", *args], env=env,
                              capture_output=True, text=True, timeout=60)

    with worker_thread(tools.get("echo"), visibility_timeout=10):
        job = EchoJob.submit(word="yo", owner="", user=user)
        for _ in range(60):  # `show` asks the site, which drains the replies first
            if json.loads(cloudsite("show", str(job.id), "--json").stdout)["status"] == "done":
                break
            time.sleep(0.5)
    shown = cloudsite("show", str(job.id))
    assert shown.returncode == 0, shown.stderr
    assert str(job.id) in shown.stdout and "echo    yo yo" in shown.stdout, shown.stdout
    listed = cloudsite("jobs", "--tool", "echo")
    assert listed.returncode == 0 and str(job.id) in listed.stdout
    queued = EchoJob.objects.create(word="later", user=user)
    assert cloudsite("cancel", str(queued.id)).returncode == 0
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    assert cloudsite("jobs", "--tool", "nope").returncode == 2
