"""Uploads are bounded before they cost anything: at most the limit reaches the disk,
and the web request reads only the image header (the whole body's cap: test_bodylimit.py)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFile

from pic.models import PicJob
from pic.uploads import LimitedUploadHandler

pytestmark = pytest.mark.django_db

MB = 2**20


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", size).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@pytest.fixture
def disk_high_water(tmp_path, settings, monkeypatch):
    """Temporary upload files go to tmp_path; records the most bytes they ever held."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    seen = {"max": 0}
    receive = LimitedUploadHandler.receive_data_chunk

    def measured(self, raw_data, start):
        outcome = receive(self, raw_data, start)
        self.file.flush() if not self.file.closed else None
        on_disk = sum(path.stat().st_size for path in tmp_path.iterdir())
        seen["max"] = max(seen["max"], on_disk)
        return outcome

    monkeypatch.setattr(LimitedUploadHandler, "receive_data_chunk", measured)
    return seen


def test_a_60_mb_upload_is_refused_unread(client, sqs_queues, disk_high_water, tmp_path):
    # The body cap (cloudsite/bodylimit.py) answers from the Content-Length.
    content = b"\x89PNG\r\n\x1a\n" + b"\0" * (60 * MB)
    response = client.post(reverse("pic:submit"), {
        "image": SimpleUploadedFile("big.png", content, "image/png"), "strength": "20"})
    assert response.status_code == 413
    assert "The request body is 60.0 MB; this address takes at most 20.0 MB." in (
        response.content.decode())
    assert disk_high_water["max"] == 0 and list(tmp_path.iterdir()) == []
    assert not PicJob.objects.exists()


def test_a_file_over_the_limit_within_the_body_cap_writes_at_most_the_limit(
        client, sqs_queues, disk_high_water, tmp_path, settings):
    # The body cap leaves a few KB for the form around the photo: a file that much over
    # the upload limit reaches the form, which names its size.
    content = b"\x89PNG\r\n\x1a\n" + b"\0" * (settings.CLOUDSITE_MAX_UPLOAD_BYTES + 4000)
    response = client.post(reverse("pic:submit"), {
        "image": SimpleUploadedFile("big.png", content, "image/png"), "strength": "20"})
    assert response.status_code == 200
    assert "The file is 20.0 MB; the limit is 20 MB." in response.content.decode()
    assert 0 < disk_high_water["max"] <= settings.CLOUDSITE_MAX_UPLOAD_BYTES
    assert list(tmp_path.iterdir()) == []  # and nothing is left behind
    assert response.context["form"]["strength"].value() == "20"  # the rest was still read
    assert not PicJob.objects.exists()


def test_an_upload_at_the_limit_is_stored_whole(client, sqs_queues, disk_high_water, settings,
                                                django_capture_on_commit_callbacks):
    content = png((64, 48))
    settings.CLOUDSITE_MAX_UPLOAD_BYTES = len(content)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pic:submit"), {
            "image": SimpleUploadedFile("ok.png", content), "strength": "30"})
    assert response.status_code == 302
    job = PicJob.objects.get()
    assert (job.size, job.width, job.height) == (len(content), 64, 48)


def test_the_upload_form_still_needs_its_csrf_token(sqs_queues):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("pic:submit"), {
        "image": SimpleUploadedFile("ok.png", png((8, 8))), "strength": "30"})
    assert response.status_code == 403


@pytest.fixture
def forbid_decoding(monkeypatch):
    """Call it once the test images are made: from then on, any decoding fails the test."""
    def refuse(self, *args, **kwargs):
        raise AssertionError("the web request decoded pixels")

    def forbid():
        monkeypatch.setattr(Image.Image, "load", refuse)
        monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    return forbid


def test_a_49_mp_png_of_47_kb_is_accepted_without_decoding(
        client, sqs_queues, forbid_decoding, django_capture_on_commit_callbacks):
    content = png((7000, 7000))
    assert len(content) < 60_000
    forbid_decoding()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("pic:submit"), {
            "image": SimpleUploadedFile("wide.png", content), "strength": "30"})
    assert response.status_code == 302  # decoding it is the worker's job
    assert (PicJob.objects.get().width, PicJob.objects.get().height) == (7000, 7000)


def test_too_many_pixels_are_refused_from_the_header(client, sqs_queues, forbid_decoding):
    content = png((8000, 8000))
    forbid_decoding()
    response = client.post(reverse("pic:submit"), {
        "image": SimpleUploadedFile("huge.png", content), "strength": "30"})
    assert response.status_code == 200
    assert "64.0 megapixels; the limit is 50 megapixels" in response.content.decode()
