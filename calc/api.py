"""CloudCal's own JSON endpoints, mounted at /api/v1/calc/ (what every tool shares:
cloudsite/api.py and cloudsite/jobs_api.py)."""

from uuid import UUID

from ninja import Router, Schema, Status
from pydantic import StrictFloat, StrictInt

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

from .forms import NumbersForm
from .models import CalcJob
from .views import serve_log

router = Router(tags=["calc"])


class CalcIn(Schema):
    numbers: list[StrictInt | StrictFloat] | None = None
    text: str | None = None


@router.post("/jobs", response={201: JobOut, **SUBMIT_ERRORS},
             summary='Compute statistics: {"numbers": [4, 8, 15]} or {"text": "4, 8, 15"}')
def submit(request, payload: CalcIn):
    check_submission(request)
    if payload.numbers is not None and payload.text is not None:
        raise InvalidInput({"request": [{"message": "Send either numbers or text, not both.",
                                         "code": "ambiguous"}]})
    field = "text" if payload.text is not None else "numbers"
    # The form parses and checks text, so the API's messages are the pages' own.
    if payload.text is not None:
        text = payload.text
    else:
        text = " ".join(repr(value) for value in payload.numbers or [])
    form = NumbersForm({"numbers": text})
    if not form.is_valid():
        raise InvalidInput({field: form_errors(form)["numbers"]})
    job = CalcJob.submit(numbers=form.cleaned_data["numbers"], **ownership(request))
    return Status(201, job_out(request, job))


@router.get("/jobs/{job_id}/log", response=ERRORS, url_name="calc_log",
            summary="The worker's log file (text), or a redirect to it on S3",
            openapi_extra={"responses": {
                "200": {"description": "The log", "content": {"text/plain": {
                    "schema": {"type": "string"}}}},
                "302": {"description": "A presigned S3 URL of the log"}}})
def log(request, job_id: UUID):
    return serve_log(get_my_job(request, "calc", job_id, fresh=False))
