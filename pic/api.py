"""CloudPic's own JSON endpoints, mounted at /api/v1/pic/ (what every tool shares:
cloudsite/api.py and cloudsite/jobs_api.py)."""

from uuid import UUID

from ninja import File, Form, Router, Status
from ninja.errors import HttpError
from ninja.files import UploadedFile

from cloudsite.api import (
    ERRORS,
    SUBMIT_ERRORS,
    InvalidInput,
    JobOut,
    check_submission,
    form_errors,
    get_my_job,
    job_out,
    ownership,
)

from .enhance.rules import CONTENT_TYPES
from .forms import PicForm
from .models import PicJob, StoreFailed
from .views import serve_original, serve_result

router = Router(tags=["pic"])

IMAGE_RESPONSES = {
    "200": {"description": "The image bytes (local storage)",
            "content": {kind: {"schema": {"type": "string", "format": "binary"}}
                        for kind in CONTENT_TYPES.values()}},
    "302": {"description": "A presigned S3 URL of the image"},
}


# What the endpoint takes, exactly (issue 17): the form checks it, with the page's
# messages, so the parameters above stay loose and the schema says it.
SUBMIT_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "title": "MultiPartBodyParams", "type": "object", "required": ["image"],
    "properties": {
        "image": {"title": "Image", "type": "string", "format": "binary",
                  "description": "A JPEG, PNG or WebP photo"},
        "strength": {"title": "Strength", "type": "integer", "minimum": 0, "maximum": 30,
                     "default": 30, "description": "Percent"}}}}}}}


@router.post("/jobs", response={201: JobOut, **SUBMIT_ERRORS}, openapi_extra=SUBMIT_BODY,
             summary="Enhance a photo (multipart: image, strength in percent 0-30)")
def submit(request, image: File[UploadedFile] = None, strength: Form[int] = 30):
    check_submission(request)
    form = PicForm({"strength": strength}, {"image": image} if image is not None else {})
    if not form.is_valid():
        errors = form_errors(form)
        too_large = any(e["code"] == "too_large" for e in errors.get("image", []))
        raise InvalidInput(errors, status=413 if too_large else 400)
    try:
        job = PicJob.submit_photo(form.cleaned_data["image"], form.image_info,
                                  form.cleaned_data["strength"], **ownership(request))
    except StoreFailed as error:
        raise HttpError(503, str(error)) from None
    return Status(201, job_out(request, job))


@router.get("/jobs/{job_id}/original", response=ERRORS, url_name="pic_original",
            summary="The uploaded photo", openapi_extra={"responses": IMAGE_RESPONSES})
def original(request, job_id: UUID):
    return serve_original(get_my_job(request, "pic", job_id, fresh=False))


@router.get("/jobs/{job_id}/result", response=ERRORS, url_name="pic_result",
            summary="The enhanced photo", openapi_extra={"responses": IMAGE_RESPONSES})
def result(request, job_id: UUID):
    return serve_result(get_my_job(request, "pic", job_id, fresh=False))
