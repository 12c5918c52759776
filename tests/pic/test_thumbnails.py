"""Thumbnails: small JPEGs made once from the job's own photos, stored, and owner-only."""

import io
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from PIL import Image

from pic import thumbnails
from pic.keys import thumbnail_key
from pic.models import PicJob

pytestmark = pytest.mark.django_db


def photo_bytes(width=2400, height=1600) -> bytes:
    buffer = io.BytesIO()
    Image.radial_gradient("L").resize((width, height)).convert("RGB").save(buffer, "JPEG",
                                                                          quality=95)
    return buffer.getvalue()


@pytest.fixture
def client(admin_client):
    return admin_client  # staff see every job; ownership is tested with a stranger below


@pytest.fixture
def job():
    job_id = uuid.uuid4()
    key = default_storage.save(f"pic/originals/{job_id}.jpg", ContentFile(photo_bytes()))
    return PicJob.objects.create(
        id=job_id, owner="someone", image_key=key, original_name="a.jpg",
        strength=0.3, format="JPEG", width=2400, height=1600, size=1, status="queued")


def test_a_thumbnail_is_small_made_once_and_stored(client, job, monkeypatch):
    url = reverse("pic:thumbnail", args=[job.id, "original"])
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    body = b"".join(response.streaming_content)
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "JPEG" and max(image.size) == 160 and image.size[0] > image.size[1]
    original = default_storage.size(job.image_key)
    assert len(body) < original / 20, (len(body), original)
    assert default_storage.exists(thumbnail_key(job.id, "original"))

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(thumbnails.Image, "open", no_decoding)  # the stored one serves now
    again = client.get(url)
    assert again.status_code == 200 and b"".join(again.streaming_content) == body


def test_no_result_no_thumbnail_and_strangers_get_404(client, job):
    assert client.get(reverse("pic:thumbnail", args=[job.id, "result"])).status_code == 404
    assert client.get(reverse("pic:thumbnail", args=[job.id, "other"])).status_code == 404
    stranger = Client()
    assert stranger.get(reverse("pic:thumbnail", args=[job.id, "original"])).status_code == 404


def test_an_unreadable_original_gives_404_not_500(client, job):
    default_storage.delete(job.image_key)
    default_storage.save(job.image_key, ContentFile(b"not a photo"))
    assert client.get(reverse("pic:thumbnail", args=[job.id, "original"])).status_code == 404


def test_lists_show_the_result_thumbnail_once_there_is_one(job):
    assert job.thumbnail_url() == reverse("pic:thumbnail", args=[job.id, "original"])
    job.result_key = job.own_result_key
    assert job.thumbnail_url() == reverse("pic:thumbnail", args=[job.id, "result"])
    assert job.summary() == "a.jpg, 2400 × 1600, strength 30%"
