"""Issue 17 row 13: the schema says what the API requires, and the docs' example works."""

import json

import pytest

from calc.models import CalcJob

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/calc/jobs"


@pytest.fixture
def schema(client):
    return client.get("/api/v1/openapi.json").json()


def post(api, body):
    return api.post(JOBS, json.dumps(body), content_type="application/json")


def test_calc_takes_numbers_or_text_and_says_so(schema):
    calc_in = schema["components"]["schemas"]["CalcIn"]
    assert calc_in["oneOf"] == [{"required": ["numbers"]}, {"required": ["text"]}]
    assert calc_in["properties"]["numbers"]["minItems"] == 1


def test_the_docs_example_is_accepted(api, schema, sqs_queues, django_capture_on_commit_callbacks):
    example = schema["components"]["schemas"]["CalcIn"]["example"]
    with django_capture_on_commit_callbacks(execute=True):
        assert post(api, example).status_code == 201


@pytest.mark.parametrize("body", [
    {"numbers": [], "text": ""}, {}, {"numbers": None, "text": "1"}, {"text": "1e5"},
    {"text": "1" * 16}, {"numbers": [1, 2], "text": "1 2"},
])
def test_what_the_schema_refuses_is_refused(api, body, sqs_queues):
    answer = post(api, body)
    assert answer.status_code == 400 and answer["Content-Type"] == "application/problem+json"
    assert not CalcJob.objects.exists()


def test_pic_requires_an_image(schema, api, sqs_queues):
    body = schema["paths"]["/api/v1/pic/jobs"]["post"]["requestBody"]
    assert body["content"]["multipart/form-data"]["schema"]["required"] == ["image"]
    answer = api.post("/api/v1/pic/jobs", {"strength": 10})
    assert answer.status_code == 400


def test_a_log_before_the_job_is_done_is_409_problem_details(api, user, schema):
    responses = schema["paths"]["/api/v1/calc/jobs/{job_id}/log"]["get"]["responses"]
    assert "409" in responses
    job = CalcJob.objects.create(numbers=[1], user=user)
    answer = api.get(f"{JOBS}/{job.id}/log")
    assert answer.status_code == 409 and answer["Content-Type"] == "application/problem+json"
    assert "queued" in answer.json()["detail"]
