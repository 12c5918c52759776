"""The CloudPic endpoints: multipart upload, the pages' messages, the image links."""

import pytest

from jobs import tools
from pic.models import PicJob
from tests.workers.batch import Consumer

pytestmark = pytest.mark.django_db
JOBS = "/api/v1/pic/jobs"

PIC = tools.get("pic")


def test_a_photo_runs_to_metrics_and_images(api, user, sqs_queues, jpeg_upload,
                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(JOBS, {"image": jpeg_upload("Trip.jpg"), "strength": "20"})
    assert response.status_code == 201, response.content
    job = PicJob.objects.get()
    assert (job.user, job.strength, job.original_name) == (user, 0.2, "Trip.jpg")

    consumer = Consumer(PIC, visibility_timeout=30, worker="pic-api-test")
    try:
        assert consumer.process_batch(wait_time=0) == 1
    finally:
        consumer.close()
    body = api.get(f"{JOBS}/{job.id}").json()
    assert body["status"] == "done" and body["tool"] == "pic"
    result = body["result"]
    assert set(result["metrics"]) == {"before", "after", "needed"}
    assert len(result["changes"]) == 3 and result["changes"][0].startswith("little to improve")
    assert result["original_url"] == f"http://testserver{JOBS}/{job.id}/original"
    assert result["result_url"] == f"http://testserver{JOBS}/{job.id}/result"
    enhanced = api.get(result["result_url"])
    assert enhanced.status_code == 200 and enhanced["Content-Type"] == "image/jpeg"
    assert b"".join(enhanced.streaming_content)[:2] == b"\xff\xd8"
    assert api.get(result["original_url"]).status_code == 200


def test_strength_defaults_to_30_percent(api, sqs_queues, jpeg_upload):
    assert api.post(JOBS, {"image": jpeg_upload()}).status_code == 201
    assert PicJob.objects.get().strength == 0.3


@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, "image", "Choose a photo to upload."),
    ({"strength": "31"}, "strength", "Ensure this value is less than or equal to 30."),
])
def test_it_answers_with_the_forms_messages(api, sqs_queues, jpeg_upload, data, field, message):
    data = {"image": jpeg_upload(), **data} if data.get("strength") else data
    response = api.post(JOBS, data)
    assert response.status_code == 400
    assert response.json()["errors"][field][0]["message"] == message
    assert PicJob.objects.count() == 0


def test_a_file_that_is_not_an_image_is_400(api, sqs_queues):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("x.jpg", b"<html>not a photo</html>", "image/jpeg")
    response = api.post(JOBS, {"image": fake})
    assert response.status_code == 400
    assert response.json()["errors"]["image"][0]["code"] == "invalid_image"


def test_a_file_over_the_limit_is_413(api, sqs_queues, jpeg_upload, settings):
    settings.CLOUDSITE_MAX_UPLOAD_BYTES = 1000
    response = api.post(JOBS, {"image": jpeg_upload()})
    assert response.status_code == 413
    assert response.json()["errors"]["image"][0]["code"] == "too_large"
    assert PicJob.objects.count() == 0


def test_a_result_not_there_yet_is_404(api, sqs_queues, jpeg_upload):
    job_id = api.post(JOBS, {"image": jpeg_upload()}).json()["id"]
    assert api.get(f"{JOBS}/{job_id}/result").status_code == 404
