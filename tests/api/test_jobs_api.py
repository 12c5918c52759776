"""The job list, the schema and docs, and the ways to make and revoke tokens."""

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders
from django.core.management import CommandError, call_command
from django.utils import timezone

from calc.models import CalcJob
from cloudsite.models import ApiToken, digest
from pic.models import PicJob

pytestmark = pytest.mark.django_db


def make_pic(user, **fields):
    fields = {"image_key": "pic/originals/x.jpg", **fields}
    return PicJob.objects.create(user=user, strength=0.3, format="JPEG", width=1, height=1,
                                 size=1, **fields)


def test_it_lists_both_tools_newest_first_with_filters_and_pages(api, user, sqs_queues):
    now = timezone.now()
    jobs = [CalcJob.objects.create(numbers=[1], user=user, created_at=now - timedelta(minutes=3)),
            make_pic(user, created_at=now - timedelta(minutes=2)),
            CalcJob.objects.create(numbers=[2], user=user, created_at=now - timedelta(minutes=1),
                                   status="failed", error="bad")]
    CalcJob.objects.create(numbers=[3], user=get_user_model().objects.create_user("bob"))

    page = api.get("/api/v1/jobs").json()
    assert page["count"] == 3
    assert [item["id"] for item in page["items"]] == [str(job.id) for job in reversed(jobs)]
    assert [item["tool"] for item in page["items"]] == ["calc", "pic", "calc"]

    assert api.get("/api/v1/jobs?tool=pic").json()["count"] == 1
    failed = api.get("/api/v1/jobs?status=failed").json()
    assert failed["count"] == 1 and failed["items"][0]["error"] == "bad"
    second = api.get("/api/v1/jobs?limit=1&offset=1").json()
    assert second["count"] == 3 and [i["id"] for i in second["items"]] == [str(jobs[1].id)]

    bad = api.get("/api/v1/jobs?limit=0")
    assert bad.status_code == 400 and "limit" in bad.json()["errors"]


def test_openapi_names_every_operation_and_problem_types(client):
    schema = client.get("/api/v1/openapi.json").json()
    operations = {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}
    assert operations == {
        ("GET", "/api/v1/tools"), ("GET", "/api/v1/jobs"), ("GET", "/api/v1/jobs/{job_id}"),
        ("GET", "/api/v1/{tool}/jobs/{job_id}"), ("POST", "/api/v1/{tool}/jobs/{job_id}/cancel"),
        ("POST", "/api/v1/calc/jobs"), ("GET", "/api/v1/calc/jobs/{job_id}/log"),
        ("POST", "/api/v1/pic/jobs"), ("GET", "/api/v1/pic/jobs/{job_id}/original"),
        ("GET", "/api/v1/pic/jobs/{job_id}/result")}
    submit = schema["paths"]["/api/v1/calc/jobs"]["post"]["responses"]
    assert set(submit) == {"201", "400", "401", "413", "429", "503"}
    assert list(submit["429"]["content"]) == ["application/problem+json"]


def test_the_docs_load_their_assets_from_this_site(client):
    page = client.get("/api/v1/docs").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any("swagger-ui-bundle.js" in source for source in sources), sources
    assert all(source.startswith("/static/") for source in sources), sources
    assert "cdn" not in page.lower()
    for source in sources:  # each one is a file the site serves itself
        assert finders.find(source.removeprefix("/static/")), source


def test_create_api_token_prints_it_once_and_stores_the_hash(user):
    out = StringIO()
    call_command("create_api_token", "ada", "--name", "laptop", stdout=out)
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(name="laptop")
    assert token.digest == digest(raw) and token.user == user
    assert ApiToken.user_for(raw) == user
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("create_api_token", "nobody", stdout=StringIO())


def test_admin_shows_a_new_token_once_and_revokes(admin_client, admin_user):
    response = admin_client.post("/admin/cloudsite/apitoken/add/",
                                 {"user": admin_user.pk, "name": "ci"}, follow=True)
    assert response.status_code == 200
    [raw] = re.findall(r"cs_[A-Za-z0-9_-]{40,}", response.content.decode())
    token = ApiToken.objects.get(name="ci")
    assert ApiToken.user_for(raw) == admin_user
    assert raw not in admin_client.get(f"/admin/cloudsite/apitoken/{token.pk}/change/"
                                       ).content.decode()
    admin_client.post("/admin/cloudsite/apitoken/",
                      {"action": "revoke", "_selected_action": [token.pk]})
    assert ApiToken.user_for(raw) is None


def test_the_file_endpoints_serve_only_the_jobs_own_keys(api, user, sqs_queues):
    """Keys an older version stored that name another job's files are never served;
    the job's own keys are (the API shares the pages' serve_log / serve_original /
    serve_result)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    victim = make_pic(get_user_model().objects.create_user("eve"))
    victim_key = f"pic/originals/{victim.id}.jpg"
    default_storage.save(victim_key, ContentFile(b"someone else's photo"))

    calc = CalcJob.objects.create(numbers=[1], user=user, status="done", log_key=victim_key)
    assert api.get(f"/api/v1/calc/jobs/{calc.id}/log").status_code == 404
    own_log = f"logs/calc/{calc.id}.log"
    default_storage.save(own_log, ContentFile(b"the job's own log"))
    CalcJob.objects.filter(pk=calc.pk).update(log_key=own_log)
    response = api.get(f"/api/v1/calc/jobs/{calc.id}/log")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"the job's own log"

    pic = make_pic(user, status="done", image_key=victim_key, result_key=victim_key)
    for name in ("original", "result"):
        assert api.get(f"/api/v1/pic/jobs/{pic.id}/{name}").status_code == 404, name
    own = {"original": f"pic/originals/{pic.id}.jpg", "result": f"pic/results/{pic.id}.jpg"}
    for key in own.values():
        default_storage.save(key, ContentFile(b"own " + key.encode()))
    PicJob.objects.filter(pk=pic.pk).update(image_key=own["original"], result_key=own["result"])
    for name, key in own.items():
        response = api.get(f"/api/v1/pic/jobs/{pic.id}/{name}")
        assert response.status_code == 200, name
        assert b"".join(response.streaming_content) == b"own " + key.encode()
