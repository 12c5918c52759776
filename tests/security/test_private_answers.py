"""Issue 17 rows 8-10 and 12: staff without permissions, the token cookie, cache headers,
the worker's identity, unknown API routes, a lone surrogate, NUL, a bad Host header.
Each test failed before the fix."""

import json
import logging

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from calc.keys import log_key
from calc.models import CalcJob
from cloudsite.models import ApiToken
from jobs import tools
from tests.security.conftest import OWNER
from workers import envelope
from workers.reconcile import apply_message

pytestmark = pytest.mark.django_db
WORKER = "ip-10-0-0-7 pid 4242"
RESULT = {"count": 2, "min": 1, "max": 2, "mean": 1.5, "median": 1.5}


@pytest.fixture
def done_calc(make_calc):
    job = make_calc(numbers=[1, 2], status="done", worker=WORKER, result=RESULT)
    job.log_key = log_key(job.id)
    job.save()
    default_storage.save(job.log_key, ContentFile(b"the log"))
    return job


@pytest.fixture
def done_pic(make_pic):
    job = make_pic(status="done", worker=WORKER, metrics={})
    job.result_key = job.image_key.replace("originals", "results")
    job.save()
    default_storage.save(job.result_key, ContentFile(b"result"))
    return job


def private_urls(calc, pic):
    return [reverse("calc:job", args=[calc.id]), reverse("calc:status", args=[calc.id]),
            reverse("calc:log", args=[calc.id]), reverse("pic:job", args=[pic.id]),
            reverse("pic:status", args=[pic.id]), reverse("pic:original", args=[pic.id]),
            reverse("pic:result", args=[pic.id])]


def staff_client(django_user_model, *permissions):
    user = django_user_model.objects.create_user("staffer", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=permissions))
    client = Client()
    client.force_login(user)
    return client


def test_staff_without_the_view_permission_get_404_on_others_jobs(done_calc, done_pic,
                                                                   django_user_model):
    urls = private_urls(done_calc, done_pic)
    bare = staff_client(django_user_model)
    assert [bare.get(url).status_code for url in urls] == [404] * len(urls)


def test_staff_with_the_view_permission_see_them(done_calc, done_pic, django_user_model):
    urls = private_urls(done_calc, done_pic)
    viewer = staff_client(django_user_model, "view_calcjob", "view_picjob")
    assert [viewer.get(url).status_code for url in urls] == [200] * len(urls)


def test_every_private_answer_says_private_no_store(owner_client, done_calc, done_pic,
                                                    client, sqs_queues):
    for url in private_urls(done_calc, done_pic):
        assert owner_client.get(url)["Cache-Control"] == "private, no-store", url
    # Not found, and the API: its JSON and its problem details.
    assert owner_client.get(f"/calc/jobs/{done_pic.id}/")["Cache-Control"] == \
        "private, no-store"
    raw = ApiToken.issue(_own(done_calc))[1]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    for url in ["/api/v1/jobs", f"/api/v1/jobs/{done_calc.id}", "/api/v1/tools",
                f"/api/v1/calc/jobs/{done_calc.id}/log", "/api/v1/jobs/nonsense"]:
        assert api.get(url)["Cache-Control"] == "private, no-store", url


def _own(job):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("owner-of-job")
    type(job).objects.filter(pk=job.pk).update(user=user)
    return user


def test_users_are_not_shown_the_worker_but_staff_are(owner_client, done_calc, admin_client,
                                                      django_user_model):
    page = owner_client.get(reverse("calc:job", args=[done_calc.id])).content.decode()
    status = owner_client.get(reverse("calc:status", args=[done_calc.id])).content.decode()
    assert WORKER not in page and WORKER not in status
    owner = _own(done_calc)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {ApiToken.issue(owner)[1]}")
    assert api.get(f"/api/v1/jobs/{done_calc.id}").json()["worker"] == ""
    assert WORKER in admin_client.get(reverse("calc:job", args=[done_calc.id])).content.decode()
    django_user_model.objects.filter(pk=owner.pk).update(is_staff=True)
    assert api.get(f"/api/v1/jobs/{done_calc.id}").json()["worker"] == WORKER


def test_a_running_job_does_not_name_its_worker_to_its_user(owner_client, make_calc):
    job = make_calc(status="running", worker=WORKER)
    CalcJob.objects.filter(pk=job.pk).update(sent_at=job.created_at)
    status = owner_client.get(reverse("calc:status", args=[job.id])).json()
    assert status["note"] == "running on a worker"


def test_a_new_token_is_shown_on_a_page_of_its_own_not_in_a_cookie(admin_client,
                                                                    admin_user):
    answer = admin_client.post(reverse("admin:cloudsite_apitoken_add"),
                               {"name": "laptop", "user": admin_user.pk})
    assert answer.status_code == 200
    token = ApiToken.objects.get(name="laptop")
    raw = answer.context["raw"]
    assert ApiToken.user_for(raw) == token.user
    assert raw in answer.content.decode()
    assert "no-store" in answer["Cache-Control"]
    # Nothing of it in any cookie: the messages cookie was how it travelled before.
    assert all(raw not in morsel.value for morsel in answer.cookies.values())
    assert "messages" not in answer.cookies
    later = admin_client.get(reverse("admin:cloudsite_apitoken_changelist")).content.decode()
    assert raw not in later


def test_unknown_api_routes_answer_problem_details(client):
    for url in ["/api/v1/anything", "/api/v1/calc/nothing/here", "/api/v1/jobs/x/y/z"]:
        answer = client.get(url)
        assert answer.status_code == 404, url
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["status"] == 404


def test_a_lone_surrogate_is_a_400_problem_not_a_500(client, sqs_queues):
    user = CalcJob._meta.get_field("user").related_model.objects.create_user("sur")
    raw = ApiToken.issue(user)[1]
    for body in ['{"text": "\\ud800"}', '{"text": "1 \\udfff 2"}', '{"numbers": [1], '
                 '"text": "\\ud800"}']:
        answer = client.post("/api/v1/calc/jobs", body, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {raw}")
        assert answer.status_code == 400, body
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["status"] == 400
    assert not CalcJob.objects.exists()


def test_nul_in_a_reply_is_stripped_before_it_is_stored(make_calc):
    job = make_calc()
    calc = tools.get("calc")
    reply = envelope.reply(str(job.id), worker="w\x00x", started_at=envelope.timestamp(),
                           error="bad\x00input")
    assert apply_message(calc, json.dumps(reply)) is True
    job.refresh_from_db()
    assert (job.status, job.error, job.worker) == ("failed", "badinput", "wx")


def test_a_bad_host_is_one_warning_line_without_a_traceback(client, caplog):
    with caplog.at_level(logging.INFO):
        answer = client.get("/", HTTP_HOST="attacker.example")
    assert answer.status_code == 400
    records = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert len(records) == 1
    assert records[0].levelname == "WARNING" and records[0].exc_info is None
    assert "Traceback" not in caplog.text


def test_pages_of_the_owner_still_work(owner_client, done_calc):
    assert owner_client.get(reverse("calc:job", args=[done_calc.id])).status_code == 200
    assert OWNER == CalcJob.objects.get().owner
