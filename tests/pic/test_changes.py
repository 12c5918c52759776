"""What a done reply may say about the changes per dimension, and how pages word it."""

import uuid

import pytest

from pic import replies
from pic.models import PicJob

pytestmark = pytest.mark.django_db

BEFORE = {"contrast": 0.2, "colorfulness": 30.0, "sharpness": 0.5, "brightness": 0.4,
          "clipped": 0.01}
AFTER = {"contrast": 0.25, "colorfulness": 30.0, "sharpness": 0.6, "brightness": 0.42,
         "clipped": 0.015}
NEEDED = {"contrast": 0.4, "colorfulness": 0.0, "sharpness": 0.2}


def make_job(metrics=None) -> PicJob:
    job_id = uuid.uuid4()
    return PicJob.objects.create(
        id=job_id, owner="o", image_key=f"pic/originals/{job_id}.jpg", original_name="a.jpg",
        strength=0.3, format="JPEG", width=40, height=30, size=123, status="done",
        result_key=f"pic/results/{job_id}.jpg", metrics=metrics)


def reply(job, metrics) -> dict:
    return {"result_key": f"pic/results/{job.id}.jpg", "metrics": metrics}


def test_a_reply_may_carry_what_each_dimension_needed():
    job = make_job()
    fields = replies.fields(job, reply(job, {"before": BEFORE, "after": AFTER,
                                             "needed": NEEDED}))
    assert fields["metrics"]["needed"] == NEEDED


def test_a_reply_without_needed_is_still_accepted():
    job = make_job()
    fields = replies.fields(job, reply(job, {"before": BEFORE, "after": AFTER}))
    assert set(fields["metrics"]) == {"before", "after"}


@pytest.mark.parametrize("needed", [
    "much", {"contrast": -0.1, "colorfulness": 0, "sharpness": 0},
    {"contrast": 0.1, "colorfulness": 0}, {"contrast": 1e9, "colorfulness": 0, "sharpness": 0},
])
def test_a_reply_with_a_bad_needed_is_refused(needed):
    job = make_job()
    with pytest.raises(ValueError):
        replies.fields(job, reply(job, {"before": BEFORE, "after": AFTER, "needed": needed}))


def test_the_job_words_each_dimension():
    job = make_job({"before": BEFORE, "after": AFTER, "needed": NEEDED})
    assert job.change_summary == ["contrast +25% (it needed +40%; capped at 30%)",
                                  "little to improve in colour",
                                  "detail +20% (it needed +20%)"]


def test_odd_stored_needs_are_not_shown():
    job = make_job({"before": BEFORE, "after": AFTER, "needed": {"contrast": "x"}})
    assert job.shown_metrics["needed"] == {"contrast": None, "colorfulness": None,
                                           "sharpness": None}
    assert job.change_summary == ["contrast +25%", "colour unchanged", "detail +20%"]
