"""Generated reply bodies thrown at the reconciler: it never raises, never keeps a reply
to retry, and never stores a value that a page cannot render."""

import json
import uuid

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from calc.models import CalcJob
from jobs import tools
from tests.security.conftest import OWNER
from workers import envelope
from workers.reconcile import apply_message

pytestmark = pytest.mark.django_db

scalars = (st.none() | st.booleans() | st.integers() | st.integers(-10**500, 10**500)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
numbers = st.integers(-50, 50) | st.floats(-1e16, 1e16) | scalars
timestamps = (st.datetimes(timezones=st.just(envelope.UTC)).map(envelope.timestamp)
              | st.just(envelope.timestamp()) | scalars)
METRIC_KEYS = ("contrast", "colorfulness", "sharpness", "brightness", "clipped")

CALC = tools.get("calc")
PIC = tools.get("pic")


KEYS = st.sampled_from(["logs/calc/{id}.log", "logs/calc/{other}.log", "pic/results/{id}.png",
                        "pic/results/{id}.jpg", "pic/results/{other}.png",
                        "pic/results/../originals/{other}.png", "pic/originals/{other}.png"])
TOP = ["version", "status", "worker", "started_at", "finished_at", "error", "attempt",
       "log_key", "result_key", "result", "metrics", "job_id"]
# A change sets a field to a generated value; None deletes the field.
top_value = (st.none() | anything | timestamps | KEYS | st.text(max_size=300)
             | st.sampled_from(["done", "failed", "retrying", "queued"]))
top_changes = st.dictionaries(st.sampled_from(TOP), top_value, max_size=2)
result_changes = st.dictionaries(st.sampled_from(["count", "min", "max", "mean", "median"]),
                                 st.none() | numbers, max_size=3)
metric_changes = st.dictionaries(
    st.tuples(st.sampled_from(["before", "after"]), st.sampled_from(METRIC_KEYS)),
    st.none() | st.floats(-2, 2000) | st.integers(-2, 2) | scalars, max_size=3)
# Sometimes a body that is not even a reply.
raw_bodies = st.none() | st.none() | st.none() | st.text(max_size=200) | anything.map(json.dumps)
FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def apply_changes(reply: dict, changes: dict, job_id) -> None:
    other = uuid.uuid4()
    for key, value in changes.items():
        if value is None:
            reply.pop(key, None)
        else:
            if isinstance(value, str):
                value = value.replace("{id}", str(job_id)).replace("{other}", str(other))
            reply[key] = value


def calc_body(job, top, result, raw) -> str:
    if raw is not None:
        return raw
    reply = envelope.reply(str(job.id), worker="w", started_at=envelope.timestamp(), result={
        "result": {"count": 6, "min": 4, "max": 42, "mean": 18.0, "median": 15.5},
        "log_key": f"logs/calc/{job.id}.log"})
    apply_changes(reply["result"], result, job.id)
    apply_changes(reply, top, job.id)
    return json.dumps(reply)


def pic_body(job, top, metrics, raw) -> str:
    if raw is not None:
        return raw
    side = {"contrast": 0.2, "colorfulness": 70.0, "sharpness": 0.3, "brightness": 0.4,
            "clipped": 0.01}
    reply = envelope.reply(str(job.id), worker="w", started_at=envelope.timestamp(), result={
        "result_key": f"pic/results/{job.id}.png",
        "metrics": {"before": dict(side), "after": dict(side)}})
    for (name, key), value in metrics.items():
        apply_changes(reply["metrics"][name], {key: value}, job.id)
    apply_changes(reply, top, job.id)
    return json.dumps(reply)


def check_pages(client, admin_client, job, names):
    for name in names:
        response = client.get(reverse(name, args=[job.id]))
        assert response.status_code in (200, 404), name
        if name.endswith(":status"):
            json.loads(response.content)
    app, model = job._meta.app_label, job._meta.model_name
    assert admin_client.get(reverse(f"admin:{app}_{model}_change", args=[job.id])).status_code \
        == 200


@FUZZ
@given(top=top_changes, result=result_changes, raw=raw_bodies)
def test_calc_replies_never_raise_nor_break_a_page(owner_client, admin_client, sqs_queues, top,
                                                   result, raw):
    job = CalcJob.objects.create(numbers=[4, 8, 15, 16, 23, 42], owner=OWNER)
    assert apply_message(CALC, calc_body(job, top, result, raw)) in (True, False)
    job.refresh_from_db()
    event(f"job {job.status}")
    if job.status == "done":
        assert job.log_key == f"logs/calc/{job.id}.log"
        assert job.shown_result == job.result  # every stored figure is one a page shows
    check_pages(owner_client, admin_client, job, ["calc:job", "calc:status", "calc:log"])


@FUZZ
@given(top=top_changes, metrics=metric_changes, raw=raw_bodies)
def test_pic_replies_never_raise_nor_break_a_page(owner_client, admin_client, sqs_queues,
                                                  make_pic, top, metrics, raw):
    job = make_pic()
    assert apply_message(PIC, pic_body(job, top, metrics, raw)) in (True, False)
    job.refresh_from_db()
    event(f"job {job.status}")
    if job.status == "done":
        assert job.result_key == f"pic/results/{job.id}.png"
        assert job.shown_metrics == job.metrics
    check_pages(owner_client, admin_client, job, ["pic:job", "pic:status", "pic:result"])
