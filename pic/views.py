import logging
import uuid
from pathlib import PurePath

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from workers.models import Status
from workers.web import get_job, owner_token, refresh, serve_object, status_payload, status_response

from .forms import PicForm
from .models import PicJob

log = logging.getLogger(__name__)

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@require_http_methods(["GET", "POST"])
def submit(request):
    form = PicForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = create_job(request, form)
        if job is not None:
            return redirect("pic:job", job_id=job.id)
    return render(request, "pic/submit.html", {"form": form})


def create_job(request, form: PicForm) -> PicJob | None:
    upload, info = form.cleaned_data["image"], form.image_info
    job_id = uuid.uuid4()
    key = f"pic/originals/{job_id}.{info.extension}"
    # Upload first, then record: no network I/O inside the transaction.
    try:
        default_storage.save(key, upload)
    except (BotoCoreError, ClientError, OSError):
        log.exception("could not store the original of %s", job_id)
        form.add_error(None, "The photo could not be stored just now; please try again.")
        return None
    with transaction.atomic():
        job = PicJob.objects.create(
            id=job_id, owner=owner_token(request), image_key=key,
            original_name=PurePath(upload.name).name[:255], format=info.format,
            width=info.width, height=info.height, size=upload.size,
            strength=form.cleaned_data["strength"] / 100,
        )
        job.enqueue()
    return job


@require_GET
def job_page(request, job_id):
    job = refresh(get_job(request, PicJob, job_id))
    return render(request, "pic/job.html", {"job": job})


@require_GET
def job_status(request, job_id):
    job = refresh(get_job(request, PicJob, job_id))
    payload = status_payload(job)
    payload["original_url"] = reverse("pic:original", args=[job.id])
    if job.status == Status.DONE:
        payload["result_url"] = reverse("pic:result", args=[job.id])
        payload["metrics"] = job.metrics
    return status_response(payload)


@require_GET
def original(request, job_id):
    job = get_job(request, PicJob, job_id)
    return serve_object(job.image_key, CONTENT_TYPES[job.format])


@require_GET
def result(request, job_id):
    job = get_job(request, PicJob, job_id)
    stem = PurePath(job.original_name).stem or "photo"
    filename = f"{stem}-enhanced.{PurePath(job.result_key).suffix.lstrip('.')}"
    return serve_object(job.result_key, CONTENT_TYPES[job.format], filename,
                        download="download" in request.GET)
