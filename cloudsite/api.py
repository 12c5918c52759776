"""The JSON API's shared parts: token auth, the job object, problem details, the job list.

A tool app may add endpoints of its own in its api module (calc/api.py, pic/api.py);
cloudsite/urls.py mounts them under /api/v1/<app label>/.
"""

from datetime import datetime
from http import HTTPStatus
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer

from jobs import tools
from jobs.models import Job, Status

from . import limits
from .limits import SubmissionRefused
from .models import ApiToken
from .pages import hide_worker, refresh

# The installed tools (jobs.tools) and Status, as the schema names them.
ToolName = Literal[tuple(tool.name for tool in tools.installed())]
StatusName = Literal[tuple(Status.values)]
PROBLEM_TYPE = "application/problem+json"


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        return ApiToken.user_for(token)


# --- errors (RFC 9457 problem details) -------------------------------------------------

class FieldError(Schema):
    message: str
    code: str


class Problem(Schema):
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: dict[str, list[FieldError]] | None = None


class InvalidInput(Exception):
    """Input a form rejected; `errors` maps field names to [{"message", "code"}]."""

    def __init__(self, errors: dict[str, list[dict]], status: int = 400):
        super().__init__("; ".join(e["message"] for field in errors.values() for e in field))
        self.errors = errors
        self.status = status


class Conflict(Exception):
    """The job is not in a state that allows this."""


def printable(text: str) -> str:
    """Text that can be sent as UTF-8: a lone surrogate ("\\ud800" is valid JSON, but no
    character) echoed from the input becomes U+FFFD instead of failing the answer."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def problem(status: int, detail: str, errors: dict | None = None) -> HttpResponse:
    if errors:
        errors = {printable(field): [{**e, "message": printable(e["message"])} for e in es]
                  for field, es in errors.items()}
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=printable(detail),
                   errors=errors)
    response = HttpResponse(body.model_dump_json(exclude_none=True), status=status,
                            content_type=PROBLEM_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response


def unknown_route(request, rest: str = ""):
    """Any /api/v1/ path no endpoint has: problem details, as every API error is."""
    return problem(404, "No such API endpoint; the endpoints are listed at /api/v1/docs.")


def form_errors(form) -> dict[str, list[dict]]:
    return {field: [{"message": e["message"], "code": e["code"] or "invalid"} for e in errors]
            for field, errors in form.errors.get_json_data().items()}


def check_submission(request: HttpRequest) -> None:
    """The one place both submit endpoints ask whether this caller may submit now
    (cloudsite.limits, the same abuse limits as the pages; answered 429)."""
    limits.check_submission(request, user=request.auth)


def ownership(request: HttpRequest) -> dict:
    """Job.submit's arguments naming who makes a job through the API: the token's user, the
    client's address, and the abuse limits' check that holds under concurrency."""
    whose = {"owner": "", "user": request.auth, "client": limits.client_address(request)}
    return {**whose, "admit": limits.Admission(**whose)}


class CloudSiteAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        # Errors are problem details: say so in the schema, so clients and schemathesis
        # expect application/problem+json on every 4xx/5xx answer.
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(code) >= 400 and "application/json" in content:
                        content[PROBLEM_TYPE] = content.pop("application/json")
        return schema


api = CloudSiteAPI(
    title="CloudSite API", version="1", urls_namespace="api", auth=BearerToken(),
    description="CloudCal and CloudPic jobs. Send `Authorization: Bearer <token>`; make a "
    "token in admin or with `manage.py create_api_token USERNAME`. Errors are RFC 9457 "
    "problem details.",
)
ERRORS = {400: Problem, 401: Problem, 404: Problem}
SUBMIT_ERRORS = {400: Problem, 401: Problem, 413: Problem, 429: Problem, 503: Problem}


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc):
    response = problem(401, "Send a valid, unrevoked API token as 'Authorization: Bearer "
                            "<token>'.")
    response["WWW-Authenticate"] = 'Bearer realm="cloudsite"'
    return response


@api.exception_handler(Http404)
def not_found(request, exc):
    return problem(404, "No such job, or it is not yours." if not str(exc) else str(exc))


@api.exception_handler(ValidationError)
def invalid_request(request, exc):
    errors: dict[str, list[dict]] = {}
    for error in exc.errors:
        names = [p for p in error.get("loc", ())
                 if p not in ("body", "query", "path", "form", "file", "payload")]
        # A field and its list indexes; later names are pydantic's union branches ("int").
        parts = [str(p) for i, p in enumerate(names) if i == 0 or isinstance(p, int)]
        field = errors.setdefault(".".join(parts) or "request", [])
        if not field:  # one message per field: a union would give one per branch
            field.append({"message": error.get("msg", "invalid"),
                          "code": error.get("type", "invalid")})
    detail = "; ".join(f"{field}: {e['message']}" for field, es in errors.items() for e in es)
    return problem(400, detail, errors)


@api.exception_handler(InvalidInput)
def invalid_input(request, exc):
    return problem(exc.status, str(exc), exc.errors)


@api.exception_handler(RequestDataTooBig)
def too_large(request, exc):
    return problem(413, str(exc) or "The request body is too large.")


@api.exception_handler(SubmissionRefused)
def refused(request, exc):
    response = problem(429, str(exc))
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(Conflict)
def conflict(request, exc):
    return problem(409, str(exc))


@api.exception_handler(HttpError)
def http_error(request, exc):
    return problem(exc.status_code, str(exc))


# --- the job object ----------------------------------------------------------------------

class JobOut(Schema):
    id: UUID
    tool: ToolName
    status: StatusName
    url: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    worker: str
    result: dict[str, Any] | None
    error: str
    note: str


class JobPage(Schema):
    count: int
    items: list[JobOut]


def job_out(request: HttpRequest, job: Job) -> dict:
    """The job object every endpoint answers with; the result is the tool's own
    (Job.api_result: calc/models.py, pic/models.py, or the default)."""
    return {
        "id": job.id, "tool": job.tool.name, "status": job.status,
        "url": request.build_absolute_uri(reverse("api:tool_job", args=[job.tool.name, job.id])),
        "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at,
        # Who ran it (host name, process id) is for staff only (cloudsite.pages.hide_worker).
        "worker": job.worker if getattr(request.auth, "is_staff", False) else "",
        "result": job.api_result(request) if job.status == Status.DONE else None,
        "error": job.error, "note": hide_worker(job, request.auth).progress_note,
    }


def my_jobs(request: HttpRequest, tool: str):
    """The caller's jobs of one tool; anyone else's job is as absent as a made-up id."""
    return tools.get(tool).model.objects.filter(user=request.auth)


def get_my_job(request: HttpRequest, tool: str, job_id: UUID, fresh: bool = True) -> Job:
    job = get_object_or_404(my_jobs(request, tool), pk=job_id)
    return refresh(job) if fresh else job
