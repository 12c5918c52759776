from pathlib import PurePath

from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from cloudsite import pages
from cloudsite.limits import limit_submissions
from jobs.models import Status

from . import thumbnails
from .enhance.rules import CONTENT_TYPES
from .forms import PicForm
from .models import PicJob, StoreFailed


# Uploads are read through pic.uploads.LimitedUploadHandler (settings.FILE_UPLOAD_HANDLERS),
# which stores at most CLOUDSITE_MAX_UPLOAD_BYTES of a file before any form sees it.
@require_http_methods(["GET", "POST"])
@limit_submissions
def submit(request):
    form = PicForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = create_job(request, form)
        if job is not None:
            return redirect("pic:job", job_id=job.id)
    return render(request, "pic/submit.html", {"form": form})


def create_job(request, form: PicForm) -> PicJob | None:
    try:
        return PicJob.submit_photo(form.cleaned_data["image"], form.image_info,
                                   form.cleaned_data["strength"], **pages.ownership(request))
    except StoreFailed as error:
        form.add_error(None, str(error))
        return None


@require_GET
def job_page(request, job_id):
    job = pages.shown_job(request, PicJob, job_id)
    return render(request, "pic/job.html", {"job": job})


@require_GET
def job_status(request, job_id):
    job = pages.shown_job(request, PicJob, job_id)
    payload = pages.status_payload(job)
    payload["original_url"] = reverse("pic:original", args=[job.id])
    if job.status == Status.DONE:
        payload["result_url"] = reverse("pic:result", args=[job.id])
        payload["metrics"] = job.shown_metrics
    return pages.status_response(payload)


@require_GET
def original(request, job_id):
    return serve_original(pages.get_job(request, PicJob, job_id))


@require_GET
def result(request, job_id):
    return serve_result(pages.get_job(request, PicJob, job_id), download="download" in request.GET)


@require_GET
def thumbnail(request, job_id, which):
    """A small JPEG of the original or the result (pic/thumbnails.py)."""
    if which not in thumbnails.WHICH:
        raise Http404("no such thumbnail")
    job = pages.get_job(request, PicJob, job_id)
    response = pages.serve_object(thumbnails.thumbnail(job, which), "image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


# The pages and the API (pic/api.py) serve a job's files through these two. Only the
# job's own keys are ever served, whatever an older version stored.
def serve_original(job: PicJob):
    return pages.serve_object(job.image_key if job.original_is_own else "", content_type(job))


def serve_result(job: PicJob, download: bool = False):
    stem = PurePath(job.original_name).stem or "photo"
    filename = f"{stem}-enhanced.{PurePath(job.result_key).suffix.lstrip('.')}"
    return pages.serve_object(job.result_key if job.result_is_own else "", content_type(job),
                        filename, download=download)


def content_type(job: PicJob) -> str:
    return CONTENT_TYPES.get(job.format, "application/octet-stream")
