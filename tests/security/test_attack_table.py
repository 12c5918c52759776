"""Every row of issue 8's table (and variants) through the real reconciler and views.

Each hostile reply goes onto the response queue; the owner then opens the job's status
JSON, which drains the queue the way a browser's poll does. Each ends with the job
unchanged (the reply dropped, deleted from the queue and counted), no 500 anywhere,
and nothing served that belongs to another job."""

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from jobs import replies, tools
from tests.conftest import queue_depth
from workers import aws, envelope
from workers.reconcile import apply_message, sendable

pytestmark = pytest.mark.django_db

RESULT = {"count": 6, "min": 4, "max": 42, "mean": 18.0, "median": 15.5}
METRICS = {"contrast": 0.2, "colorfulness": 70.0, "sharpness": 0.3, "brightness": 0.4,
           "clipped": 0.01}

CALC = tools.get("calc")
PIC = tools.get("pic")


def calc_reply(job, **fields) -> dict:
    reply = envelope.reply(str(job.id), worker="w", started_at=envelope.timestamp(),
                           result={"result": dict(RESULT), "log_key": f"logs/calc/{job.id}.log"})
    return {**reply, **fields}


def pic_reply(job, **fields) -> dict:
    reply = envelope.reply(str(job.id), worker="w", started_at=envelope.timestamp(),
                           result={"result_key": f"pic/results/{job.id}.png",
                                   "metrics": {"before": METRICS, "after": METRICS}})
    return {**reply, **fields}


def deliver(client, tool, job, body: str, views: list[str]) -> None:
    """Send a body on the response queue, let the status view drain it, open every page."""
    aws.send(tool.response_queue, body)
    for name in views:
        response = client.get(reverse(name, args=[job.id]))
        assert response.status_code in (200, 404), (name, response.status_code)
    assert queue_depth(tool.response_queue) == {"visible": 0, "in_flight": 0}


def assert_dropped(job, tool, before: int = 0) -> None:
    job.refresh_from_db()
    assert job.status == "queued" and not job.worker and job.finished_at is None
    assert replies.dropped_count(tool.name) == before + 1


CALC_VIEWS = ["calc:status", "calc:job", "calc:log"]
PIC_VIEWS = ["pic:status", "pic:job", "pic:result"]


@pytest.mark.parametrize("log_key", [
    "pic/originals/{other}.png",  # the observed attack
    "logs/calc/{other}.log",  # another job's own log
    "logs/calc/../../pic/originals/{other}.png",
    "logs/calc/{job}.log/../{other}.log",
    "/etc/passwd",
    "",
])
def test_a_calc_reply_cannot_point_at_another_object(owner_client, sqs_queues, make_calc,
                                                    make_pic, log_key):
    other = make_pic()
    default_storage.save(f"logs/calc/{other.id}.log", ContentFile(b"the other job's log"))
    job = make_calc()
    body = json.dumps(calc_reply(job, log_key=log_key.format(other=other.id, job=job.id)))
    deliver(owner_client, CALC, job, body, CALC_VIEWS)
    assert_dropped(job, CALC)
    assert owner_client.get(reverse("calc:log", args=[job.id])).status_code == 404


@pytest.mark.parametrize("result_key", [
    "pic/results/../originals/{other}.png",  # the observed attack
    "pic/results/{other}.png",  # another job's result
    "pic/results/{job}.exe",
    "pic/results/{job}.jpg",  # an allowed extension, but not this job's format
    "pic/results/{job}.png/../../originals/{other}.png",
    "pic/originals/{job}.png",
    ["pic/results/{job}.png"],
])
def test_a_pic_reply_cannot_point_at_another_object(owner_client, sqs_queues, make_pic,
                                                   result_key):
    other = make_pic()
    default_storage.save(f"pic/results/{other.id}.png", ContentFile(b"the other result"))
    job = make_pic()
    if isinstance(result_key, str):
        result_key = result_key.format(other=other.id, job=job.id)
    deliver(owner_client, PIC, job, json.dumps(pic_reply(job, result_key=result_key)),
            PIC_VIEWS)
    assert_dropped(job, PIC)
    response = owner_client.get(reverse("pic:result", args=[job.id]))
    assert response.status_code == 404


@pytest.mark.parametrize("change", [
    {"count": True},  # observed: the job page and the admin list 500'd
    {"mean": int("9" * 400)},  # observed
    {"mean": 1e300},
    {"median": "15.5"},
    {"min": None},
    {"count": 7},  # not the job's own count
    {"count": 6.0},
    {"min": 3},  # not the job's own minimum
    {"max": 43},
    {"mean": 50.0},  # outside [min, max]
    {"median": -1},
])
def test_calc_results_must_be_what_the_worker_could_compute(owner_client, admin_client,
                                                           sqs_queues, make_calc, change):
    job = make_calc()
    reply = calc_reply(job)
    reply["result"].update(change)
    deliver(owner_client, CALC, job, json.dumps(reply), CALC_VIEWS)
    assert_dropped(job, CALC)
    assert admin_client.get(reverse("admin:calc_calcjob_changelist")).status_code == 200


@pytest.mark.parametrize("metrics", [
    {"before": {k: str(v) for k, v in METRICS.items()}, "after": METRICS},  # observed
    {"before": METRICS, "after": {**METRICS, "contrast": True}},
    {"before": METRICS, "after": {**METRICS, "clipped": 2.0}},
    {"before": METRICS, "after": {**METRICS, "colorfulness": -1}},
    {"before": METRICS, "after": {k: v for k, v in METRICS.items() if k != "sharpness"}},
    {"before": METRICS},
    {"before": [], "after": METRICS},
    "good",
])
def test_pic_metrics_must_have_the_known_keys_and_numbers(owner_client, admin_client,
                                                        sqs_queues, make_pic, metrics):
    job = make_pic()
    deliver(owner_client, PIC, job, json.dumps(pic_reply(job, metrics=metrics)), PIC_VIEWS)
    assert_dropped(job, PIC)
    assert admin_client.get(reverse("admin:pic_picjob_change", args=[job.id])).status_code == 200


@pytest.mark.parametrize("raw", [
    '"mean": NaN', '"mean": Infinity', '"mean": -Infinity', '"mean": 1e999',
])
def test_nan_and_infinity_are_dropped_not_retried(owner_client, sqs_queues, make_calc, raw):
    # Observed: IntegrityError, and "it will come back" forever.
    job = make_calc()
    body = json.dumps(calc_reply(job)).replace('"mean": 18.0', raw)
    assert raw in body
    deliver(owner_client, CALC, job, body, CALC_VIEWS)
    assert_dropped(job, CALC)


@pytest.mark.parametrize("fields", [
    {"started_at": "9999-12-31T23:59:59Z"},  # observed: OverflowError, retried forever
    {"finished_at": "9999-12-31T23:59:59.999Z"},
    {"started_at": "0001-01-01T00:00:00Z"},
    {"started_at": "yesterday"},
    {"started_at": 1_700_000_000},
    {"finished_at": "2000-01-01T00:00:00"},
    {"started_at": envelope.timestamp(), "finished_at": "2020-01-01T00:00:00Z"},
    {"worker": "w" * 256},
    {"worker": {"name": "w"}},
])
def test_common_fields_must_parse_and_lie_in_a_sane_window(owner_client, sqs_queues,
                                                          make_calc, fields):
    job = make_calc()
    deliver(owner_client, CALC, job, json.dumps(calc_reply(job, **fields)), CALC_VIEWS)
    assert_dropped(job, CALC)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("body", [
    '{"version": 1, "job_id": "%s", "status": "done", "result": ' + nested(50_000) + "}",
    '{"version": 1, "job_id": "%s", "status": "done", "result": ' + nested(900) + "}",
    '{"version": 1, "job_id": "%s", "status": "done", "result": ' + nested(20) + "}",
    nested(50_000),
])
def test_deep_nesting_is_dropped_and_deleted(owner_client, sqs_queues, make_calc, body):
    # Observed: RecursionError escaped, the status view 500'd, the message stayed.
    job = make_calc()
    body = body.replace("%s", str(job.id))
    for _ in range(6):
        aws.send(CALC.response_queue, body)
    for _ in range(6):
        assert owner_client.get(reverse("calc:status", args=[job.id])).status_code == 200
    assert queue_depth(CALC.response_queue) == {"visible": 0, "in_flight": 0}
    job.refresh_from_db()
    assert job.status == "queued" and replies.dropped_count(CALC.name) == 6


def test_a_failed_reply_still_fails_the_job_with_its_reason(owner_client, sqs_queues,
                                                           make_calc):
    job = make_calc()
    body = json.dumps(envelope.reply(str(job.id), worker="w", started_at=envelope.timestamp(),
                                     error="bad input: " + "x" * 50_000))
    deliver(owner_client, CALC, job, body, CALC_VIEWS)
    job.refresh_from_db()
    assert job.status == "failed" and job.error.startswith("bad input")
    assert len(job.error) == replies.MAX_ERROR_CHARS


def test_a_valid_reply_is_still_applied(owner_client, sqs_queues, make_calc, make_pic):
    calc, pic = make_calc(), make_pic()
    deliver(owner_client, CALC, calc, json.dumps(calc_reply(calc)), CALC_VIEWS)
    deliver(owner_client, PIC, pic, json.dumps(pic_reply(pic)), ["pic:status", "pic:job"])
    calc.refresh_from_db()
    pic.refresh_from_db()
    assert calc.status == pic.status == "done" and calc.result == RESULT
    assert pic.result_key == f"pic/results/{pic.id}.png"
    assert replies.dropped_count(CALC.name) == replies.dropped_count(PIC.name) == 0


@pytest.mark.parametrize("make_body", [
    lambda job: json.dumps(calc_reply(job)).encode("utf-8")[:-1] + b"\xff}",  # invalid UTF-8
    lambda job: json.dumps(calc_reply(job, worker="\ud800"), ensure_ascii=False),  # surrogate
    lambda job: json.dumps(calc_reply(job, padding="x" * envelope.MAX_BODY_BYTES)),
    lambda job: json.dumps(calc_reply(job, job_id=7)),
    lambda job: json.dumps(calc_reply(job, status=["done"])),
    lambda job: json.dumps(calc_reply(job, status="failed", error=None)),
    lambda job: json.dumps(calc_reply(job, status="failed", error=42)),
    lambda job: json.dumps(calc_reply(job, status="retrying", error="x", attempt=True)),
    lambda job: json.dumps(calc_reply(job, status="retrying", error="x", attempt=10**30)),
    lambda job: json.dumps(calc_reply(job, version="1")),
    lambda job: json.dumps(calc_reply(job, version=True)),  # issue 17: True == 1 in Python
    lambda job: json.dumps(calc_reply(job, result=[RESULT])),
    lambda job: json.dumps([calc_reply(job)]),
    lambda job: f'{{"job_id": "{job.id}", "mean": {"9" * 5000}}}',  # int()'s digit limit
])
def test_undecodable_or_wrongly_typed_bodies_are_dropped(sqs_queues, make_calc, make_body,
                                                         caplog):
    job = make_calc()
    body = make_body(job)
    assert apply_message(CALC, body) is False
    assert_dropped(job, CALC)
    assert len([r for r in caplog.records if r.levelname == "ERROR"]) == 1
    # Issue 17: a copy is kept on the response dead-letter queue, to inspect.
    kept = aws.receive(CALC.response_dlq, wait_time=0)
    assert [message["Body"] for message in kept] == [sendable(body)]
    if isinstance(body, str) and len(body) < envelope.MAX_BODY_BYTES and body.isprintable():
        assert kept[0]["Body"] == body  # the very reply, as the attacker sent it


def test_a_well_formed_body_as_bytes_is_applied(make_calc):
    job = make_calc()
    assert apply_message(CALC, json.dumps(calc_reply(job)).encode("utf-8")) is True
