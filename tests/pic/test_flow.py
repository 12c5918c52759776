"""The whole CloudPic flow in one process: upload → S3 → worker step → reply → reconcile."""

import io
import json
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from jobs import tools
from pic.models import PicJob
from tests.conftest import BUCKET, queue_depth
from tests.pic.conftest import encode
from tests.workers.batch import Consumer
from workers import aws

PIC = tools.get("pic")

pytestmark = pytest.mark.django_db


@pytest.fixture
def pic_consumer(sqs_queues):
    consumer = Consumer(PIC, visibility_timeout=30, worker="pic-test-worker")
    yield consumer
    consumer.close()


def upload(client, capture, file, strength="30"):
    with capture(execute=True):
        return client.post(reverse("pic:submit"), {"image": file, "strength": strength})


def replies():
    return [json.loads(m["Body"]) for m in aws.receive(PIC.response_queue, wait_time=0)]


def test_a_photo_goes_from_upload_to_before_and_after(client, s3_bucket, pic_consumer,
                                                      jpeg_upload,
                                                      django_capture_on_commit_callbacks):
    response = upload(client, django_capture_on_commit_callbacks, jpeg_upload("My Trip.jpg"),
                      "25")
    job = PicJob.objects.get()
    assert response["Location"] == f"/pic/jobs/{job.id}/"
    assert job.image_key == f"pic/originals/{job.id}.jpg"  # never the user's file name
    assert (job.original_name, job.strength, job.format) == ("My Trip.jpg", 0.25, "JPEG")
    original = s3_bucket.get_object(Bucket=BUCKET, Key=job.image_key)
    assert original["ContentLength"] == job.size

    # A peek that leaves the message visible to the worker at once.
    [peeked] = aws.receive(PIC.request_queue, wait_time=0, visibility_timeout=0)
    request = json.loads(peeked["Body"])
    assert request.pop("reply_token")  # a fresh one per send (tests/calc/test_flow.py)
    assert request == {"version": 1, "job_id": str(job.id), "image_key": job.image_key,
                       "strength": 0.25}
    assert pic_consumer.process_batch(wait_time=0) == 1

    status = client.get(reverse("pic:status", args=[job.id])).json()
    assert status["status"] == "done", status
    assert status["original_url"] == f"/pic/jobs/{job.id}/original"
    assert status["result_url"] == f"/pic/jobs/{job.id}/result"
    before, after = status["metrics"]["before"], status["metrics"]["after"]
    for key in ("contrast", "colorfulness", "sharpness"):
        assert after[key] / before[key] <= 1.25 + 1e-3, key
    # The astronaut photo lacks only detail (pic/enhance/norms.py): that alone is raised.
    assert status["metrics"]["needed"]["sharpness"] > 0.25
    assert status["metrics"]["needed"]["contrast"] == 0
    assert after["sharpness"] / before["sharpness"] > 1.1

    job.refresh_from_db()
    assert job.result_key == f"pic/results/{job.id}.jpg"
    result = s3_bucket.get_object(Bucket=BUCKET, Key=job.result_key)["Body"].read()
    with Image.open(io.BytesIO(result)) as enhanced:
        assert (enhanced.format, enhanced.size) == ("JPEG", (512, 512))

    page = client.get(reverse("pic:job", args=[job.id])).content.decode()
    assert 'class="compare"' in page and 'data-metric="contrast"' in page
    assert "<li>Little to improve in contrast</li>" in page
    assert "<li>Detail +" in page and "capped at 25%" in page
    assert f"/pic/jobs/{job.id}/result?download=1" in page

    download = client.get(reverse("pic:result", args=[job.id]) + "?download=1")
    assert download.status_code == 302 and "Signature" in download["Location"]
    assert "My%20Trip-enhanced.jpg" in download["Location"]


def test_a_bad_upload_makes_no_job_and_no_object(client, sqs_queues, media_root,
                                                 django_capture_on_commit_callbacks):
    fake = ContentFile(b"<svg xmlns='http://www.w3.org/2000/svg'/>", name="cat.jpg")
    response = upload(client, django_capture_on_commit_callbacks, fake)
    assert response.status_code == 200 and "is markup" in response.content.decode()
    assert PicJob.objects.count() == 0
    assert queue_depth(PIC.request_queue)["visible"] == 0
    assert not any(media_root.rglob("*.*"))


def send_request(**fields):
    job_id = str(uuid.uuid4())
    aws.send(PIC.request_queue, json.dumps({"version": 1, "job_id": job_id, **fields}))
    return job_id


def test_a_missing_original_fails_the_job(pic_consumer):
    send_request(image_key="pic/originals/nothing-here.jpg", strength=0.3)
    assert pic_consumer.process_batch(wait_time=0) == 1
    [reply] = replies()
    assert reply["status"] == "failed" and "does not exist" in reply["error"]
    assert queue_depth(PIC.request_queue) == {"visible": 0, "in_flight": 0}


def test_a_missing_original_on_s3_fails_the_job(s3_bucket, pic_consumer):
    send_request(image_key="pic/originals/nothing-here.jpg", strength=0.3)
    pic_consumer.process_batch(wait_time=0)
    [reply] = replies()
    assert reply["status"] == "failed" and "does not exist" in reply["error"]


def test_a_truncated_original_fails_the_job(photo, pic_consumer):
    content = encode(photo, "JPEG", quality=90)
    default_storage.save("pic/originals/cut.jpg", ContentFile(content[: len(content) // 2]))
    send_request(image_key="pic/originals/cut.jpg", strength=0.3)
    pic_consumer.process_batch(wait_time=0)
    [reply] = replies()
    assert reply["status"] == "failed" and "truncated or damaged" in reply["error"]


@pytest.mark.parametrize("fields, error", [
    ({"image_key": "../etc/passwd", "strength": 0.3}, "image_key must name an original"),
    ({"image_key": "pic/originals/x.jpg", "strength": 0.5},
     "strength must be between 0 and 0.3, not 0.5"),
    ({"image_key": "pic/originals/x.jpg", "strength": "0.3"},
     "strength must be a number, not '0.3'"),
    ({"image_key": "pic/originals/x.jpg"}, "strength must be a number, not None"),
])
def test_bad_requests_fail_with_a_reason(pic_consumer, fields, error):
    send_request(**fields)
    pic_consumer.process_batch(wait_time=0)
    [reply] = replies()
    assert reply["status"] == "failed" and error in reply["error"]


def test_pic_jobs_are_private_to_their_session(client, sqs_queues, jpeg_upload,
                                               django_capture_on_commit_callbacks):
    from django.test import Client
    upload(client, django_capture_on_commit_callbacks, jpeg_upload())
    job = PicJob.objects.get()
    stranger = Client()
    for name in ("pic:job", "pic:status", "pic:original", "pic:result"):
        assert stranger.get(reverse(name, args=[job.id])).status_code == 404
    assert client.get(reverse("pic:original", args=[job.id]))["Content-Type"] == "image/jpeg"


def test_an_unreachable_bucket_gives_a_form_error_not_a_500(client, s3_bucket, jpeg_upload,
                                                           django_capture_on_commit_callbacks,
                                                           monkeypatch):
    from botocore.exceptions import EndpointConnectionError
    from storages.backends.s3 import S3Storage

    def down(*args, **kwargs):
        raise EndpointConnectionError(endpoint_url="https://s3.example")

    monkeypatch.setattr(S3Storage, "_save", down)
    response = upload(client, django_capture_on_commit_callbacks, jpeg_upload())
    assert response.status_code == 200
    assert "could not be stored just now" in response.content.decode()
    assert PicJob.objects.count() == 0
