"""What the tools' views share: who owns a job, the status JSON, serving stored objects."""

import logging
import secrets

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header

from jobs.models import Job
from workers.reconcile import reconcile

from . import limits

log = logging.getLogger(__name__)

OWNER_KEY = "cloudsite_owner"


def owner_token(request: HttpRequest) -> str:
    """A random token naming this browser session; it survives logging in."""
    token = request.session.get(OWNER_KEY)
    if token is None:
        token = request.session[OWNER_KEY] = secrets.token_urlsafe(24)
    return token


def ownership(request: HttpRequest) -> dict:
    """Job.submit's arguments naming who makes a job from this page request: the session,
    the user if any, the client's address, and the abuse limits' check (cloudsite.limits)."""
    user = request.user if request.user.is_authenticated else None
    whose = {"owner": owner_token(request), "user": user,
             "client": limits.client_address(request)}
    return {**whose, "admit": limits.Admission(**whose)}


def owned_by(request: HttpRequest) -> Q:
    """Jobs of this browser session, and of the logged-in user (made here or with a token)."""
    token = request.session.get(OWNER_KEY)
    mine = Q(owner=token) if token else Q(pk__in=[])
    if request.user.is_authenticated:
        mine |= Q(user=request.user)
    return mine


def may_view_all(user, model) -> bool:
    """Staff see others' jobs (pages, files, logs) only with the model's view permission,
    as in admin; a staff account without it sees its own, like anyone."""
    opts = model._meta
    return user.is_active and user.is_staff and user.has_perm(
        f"{opts.app_label}.view_{opts.model_name}")


def visible_jobs(request: HttpRequest, model):
    if may_view_all(request.user, model):
        return model.objects.all()
    return model.objects.filter(owned_by(request))


def get_job(request: HttpRequest, model, job_id) -> Job:
    """The job if this session made it (or the user may view all jobs); 404 for anyone else."""
    return get_object_or_404(visible_jobs(request, model), pk=job_id)


# What a user who is not staff is told about who ran a job: a worker's host name and
# process id tell an attacker about the fleet, and a user needs neither.
SOME_WORKER = "a worker"


def hide_worker(job: Job, user) -> Job:
    """Leave `job.worker` (never saved again) only for staff."""
    if job.worker and not (user is not None and user.is_staff):
        job.worker = SOME_WORKER
    return job


def shown_job(request: HttpRequest, model, job_id) -> Job:
    """The job a page or its status JSON shows: this viewer's, just reconciled."""
    return hide_worker(refresh(get_job(request, model, job_id)), request.user)


def refresh(job: Job) -> Job:
    """Drain the job's response queue without blocking, then re-read the row."""
    if not job.is_terminal:
        try:
            reconcile(job.tool, wait_time=0, max_batches=3)
        except (BotoCoreError, ClientError):
            log.exception("could not drain %s replies", job.tool.name)
        job.refresh_from_db()
    return job


def status_payload(job: Job) -> dict:
    payload = {"id": str(job.id), "status": job.status}
    if job.error:
        payload["error"] = job.error
    if job.progress_note:
        payload["note"] = job.progress_note
    return payload


def status_response(payload: dict) -> JsonResponse:
    response = JsonResponse(payload)
    response["Cache-Control"] = "private, no-store"
    return response


def serve_object(key: str, content_type: str, filename: str | None = None,
                 download: bool = False):
    """Hand out a stored object: a presigned S3 URL, or the local file itself."""
    if not key:
        raise Http404("no such object")
    if hasattr(default_storage, "bucket_name"):
        parameters = {"ResponseContentType": content_type}
        if download:
            parameters["ResponseContentDisposition"] = content_disposition_header(True, filename)
        return HttpResponseRedirect(default_storage.url(key, parameters=parameters))
    try:
        handle = default_storage.open(key, "rb")
    except FileNotFoundError:
        raise Http404("no such object") from None
    return FileResponse(handle, content_type=content_type, as_attachment=download,
                        filename=filename)
