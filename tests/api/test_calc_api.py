"""The CloudCal endpoints and what both tools share: auth, problems, the job object, cancel."""

import json

import pytest
from django.contrib.auth import get_user_model

from calc.models import CalcJob
from cloudsite import api as api_module
from cloudsite.models import ApiToken
from jobs import tools
from tests.conftest import queue_depth
from workers.reconcile import reconcile

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/calc/jobs"

CALC = tools.get("calc")


def post_json(client, url, data, **extra):
    return client.post(url, json.dumps(data), content_type="application/json", **extra)


def submit(api, capture, data):
    with capture(execute=True):
        return post_json(api, JOBS, data)


def test_it_makes_a_job_owned_by_the_tokens_user(api, user, sqs_queues,
                                                 django_capture_on_commit_callbacks):
    response = submit(api, django_capture_on_commit_callbacks, {"numbers": [4, 8, 15.5]})
    assert response.status_code == 201, response.content
    body = response.json()
    job = CalcJob.objects.get()
    assert job.user == user and job.owner == "" and job.numbers == [4, 8, 15.5]
    assert body["id"] == str(job.id) and body["tool"] == "calc" and body["status"] == "queued"
    assert body["url"] == f"http://testserver/api/v1/calc/jobs/{job.id}"
    assert body["result"] is None and body["error"] == ""
    assert queue_depth(CALC.request_queue)["visible"] == 1
    assert api.get(body["url"]).json()["note"] == "waiting for a worker"


def test_text_goes_through_the_pages_form(api, sqs_queues, django_capture_on_commit_callbacks):
    response = submit(api, django_capture_on_commit_callbacks, {"text": "4, 8\n15"})
    assert response.status_code == 201
    assert CalcJob.objects.get().numbers == [4, 8, 15]


def test_a_bad_value_is_a_problem_naming_it_as_the_form_does(api, sqs_queues):
    response = post_json(api, JOBS, {"text": "1, two, 3"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["title"] == "Bad Request"
    assert problem["type"] == "about:blank"
    assert problem["detail"] == "Value 2, “two”, is not a number."
    assert problem["errors"] == {"text": [{"message": "Value 2, “two”, is not a number.",
                                           "code": "not_a_number"}]}
    assert CalcJob.objects.count() == 0


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"numbers": []}, "numbers", "Enter at least one number."),
    ({}, "numbers", "Enter at least one number."),
    ({"numbers": [1e300]}, "numbers", "Value 1, “1e+300”, is out of range (at most ±1e15)."),
    ({"numbers": [1], "text": "1"}, "request", "Send either numbers or text, not both."),
])
def test_it_rejects_bad_input(api, sqs_queues, data, field, message):
    response = post_json(api, JOBS, data)
    assert response.status_code == 400
    assert response.json()["errors"][field][0]["message"] == message


def test_booleans_and_strings_are_not_numbers(api, sqs_queues):
    response = post_json(api, JOBS, {"numbers": [1, True, "3"]})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"numbers.1", "numbers.2"}


@pytest.mark.parametrize("header", [None, "Bearer nope", "Token x", "Bearer "])
def test_without_a_good_token_it_is_401(client, sqs_queues, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
    response = client.get("/api/v1/jobs", **extra)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer" in response.json()["detail"]


def test_a_revoked_token_is_401(api, user, sqs_queues):
    assert api.get("/api/v1/jobs").status_code == 200
    assert ApiToken.objects.get(user=user).revoke()
    assert api.get("/api/v1/jobs").status_code == 401


def test_an_inactive_users_token_is_401(api, user, sqs_queues):
    user.is_active = False
    user.save()
    assert api.get("/api/v1/jobs").status_code == 401


def test_a_token_is_stored_only_as_its_hash(user):
    token, raw = ApiToken.issue(user)
    assert raw.startswith("cs_") and len(raw) > 40
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in json.dumps(row, default=str)
    assert row["hint"] == raw[:9]
    assert ApiToken.user_for(raw) == user and ApiToken.user_for(raw + "x") is None


def test_another_users_job_is_404_like_a_made_up_one(api, sqs_queues):
    other = get_user_model().objects.create_user("bob")
    job = CalcJob.objects.create(numbers=[1], user=other)
    for url in (f"{JOBS}/{job.id}", f"{JOBS}/{job.id}/log", f"/api/v1/calc/jobs/{job.id}/cancel"):
        response = api.post(url) if url.endswith("cancel") else api.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"
    job.refresh_from_db()
    assert job.status == "queued"


def test_a_job_runs_to_figures_and_a_log(api, s3_bucket, calc_consumer,
                                         django_capture_on_commit_callbacks):
    job_id = submit(api, django_capture_on_commit_callbacks, {"numbers": [4, 8, 15, 16, 23, 42]}
                    ).json()["id"]
    assert calc_consumer.process_batch(wait_time=0) == 1
    body = api.get(f"{JOBS}/{job_id}").json()  # drains the replies itself, as the pages do
    # (who ran it is for staff only: issue 17)
    assert body["status"] == "done" and body["worker"] == ""
    assert body["started_at"] and body["finished_at"] and body["note"] == ""
    log_url = f"http://testserver/api/v1/calc/jobs/{job_id}/log"
    assert body["result"] == {"count": 6, "min": 4, "max": 42, "mean": 18.0, "median": 15.5,
                              "log_url": log_url}
    response = api.get(log_url)
    assert response.status_code == 302 and "Signature" in response["Location"]


def test_cancel_stops_a_queued_job_and_the_late_reply_is_ignored(
        api, client, user, sqs_queues, calc_consumer, django_capture_on_commit_callbacks):
    job_id = submit(api, django_capture_on_commit_callbacks, {"numbers": [1, 2]}).json()["id"]
    response = api.post(f"/api/v1/calc/jobs/{job_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["finished_at"]

    assert calc_consumer.process_batch(wait_time=0) == 1  # the worker had it already
    assert reconcile(CALC) == 0  # the worker's reply is read, and changes nothing
    assert queue_depth(CALC.response_queue)["visible"] == 0
    body = api.get(f"{JOBS}/{job_id}").json()
    assert body["status"] == "cancelled" and body["result"] is None
    assert CalcJob.objects.get().result is None

    again = api.post(f"/api/v1/calc/jobs/{job_id}/cancel")
    assert again.status_code == 409 and "only a queued job" in again.json()["detail"]

    # The same user logged in sees the token's job on the pages, cancelled.
    client.defaults.pop("HTTP_AUTHORIZATION")
    client.force_login(user)
    page = client.get(f"/calc/jobs/{job_id}/").content.decode()
    assert '<span class="status cancelled">cancelled</span>' in page
    assert f"/calc/jobs/{job_id}/" in client.get("/").content.decode()


def test_an_anonymous_session_does_not_see_token_jobs(api, sqs_queues):
    job = CalcJob.objects.create(numbers=[1], user=ApiToken.objects.get().user)
    api.defaults.pop("HTTP_AUTHORIZATION")
    assert api.get(f"/calc/jobs/{job.id}/").status_code == 404


def test_refused_submissions_are_429_with_retry_after(api, sqs_queues, monkeypatch):
    def refuse(request):
        raise api_module.SubmissionRefused("Too many jobs; wait a minute.", retry_after=60)

    monkeypatch.setattr("calc.api.check_submission", refuse)
    response = post_json(api, JOBS, {"numbers": [1]})
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert response.json()["detail"] == "Too many jobs; wait a minute."
    assert CalcJob.objects.count() == 0


def test_the_abuse_limits_apply_to_the_api(api, sqs_queues, settings):
    settings.CLOUDSITE_SUBMISSIONS_PER_MINUTE = 1
    assert post_json(api, JOBS, {"numbers": [1]}).status_code == 201
    response = post_json(api, JOBS, {"numbers": [2]})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert "jobs a minute" in response.json()["detail"]
    assert CalcJob.objects.count() == 1


def test_a_body_over_djangos_limit_is_413(api, sqs_queues, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = post_json(api, JOBS, {"numbers": list(range(100))})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
