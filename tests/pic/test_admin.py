import uuid

import pytest
from django.urls import reverse

from pic.models import PicJob

pytestmark = pytest.mark.django_db

METRICS = {"before": {"contrast": 0.2, "colorfulness": 30.0, "sharpness": 0.5,
                      "brightness": 0.4, "clipped": 0.01},
           "after": {"contrast": 0.25, "colorfulness": 36.0, "sharpness": 0.6,
                     "brightness": 0.42, "clipped": 0.015}}


@pytest.fixture
def job():
    job_id = uuid.uuid4()
    return PicJob.objects.create(
        id=job_id, owner="o", image_key=f"pic/originals/{job_id}.jpg", original_name="a.jpg",
        strength=0.3, format="JPEG", width=4000, height=3000, size=123, status="done",
        worker="ip-2:9", result_key=f"pic/results/{job_id}.jpg", metrics=METRICS)


def test_the_changelist_shows_thumbnails_strength_and_status(admin_client, job):
    page = admin_client.get(reverse("admin:pic_picjob_changelist")).content.decode()
    # Small stored thumbnails (tests/pic/test_thumbnails.py), not the photos themselves.
    assert f'src="/pic/jobs/{job.id}/thumbnail/original"' in page
    assert f'src="/pic/jobs/{job.id}/thumbnail/result"' in page
    assert f'src="/pic/jobs/{job.id}/original"' not in page
    assert "30%" in page and "ip-2:9" in page and "4000 × 3000 (12.0 MP)" in page


def test_the_detail_shows_metrics_and_links(admin_client, job):
    page = admin_client.get(reverse("admin:pic_picjob_change", args=[job.id])).content.decode()
    assert "<th>colorfulness</th><td>30</td><td>36</td>" in page
    assert f'href="/pic/jobs/{job.id}/original"' in page and f"pic/results/{job.id}.jpg" in page


def test_the_metric_rows_give_the_change(job):
    rows = {row["name"]: row for row in job.metric_rows()}
    assert rows["contrast"]["change"] == "+25.0%"
    assert rows["colorfulness"]["change"] == "+20.0%"
    assert rows["clipped"]["change"] == "+0.5 pt"  # a share: points, not percent
