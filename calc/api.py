"""CloudCal's own JSON endpoints, mounted at /api/v1/calc/ (what every tool shares:
cloudsite/api.py and cloudsite/jobs_api.py)."""

import re
from uuid import UUID

from ninja import Router, Schema, Status
from pydantic import ConfigDict, StrictFloat, StrictInt

from cloudsite.api import (
    ERRORS,
    SUBMIT_ERRORS,
    Conflict,
    InvalidInput,
    JobOut,
    Problem,
    check_submission,
    form_errors,
    get_my_job,
    job_out,
    ownership,
)
from jobs.models import Status as JobStatus

from .forms import NumbersForm
from .models import CalcJob
from .stats import MAX_ABS, MAX_VALUES
from .views import serve_log

router = Router(tags=["calc"])


# The text the API takes: numbers of at most 15 digits before the point and 20 after, no
# exponent, separated by commas, spaces or new lines. Narrower than the page's form (which
# also takes 1e5), so that the schema can state it exactly; at most 19,999 characters,
# which holds at most MAX_VALUES numbers.
NUMBER_TEXT = r"[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,20})?|\.[0-9]{1,20})"
SEPARATOR = r"[, \t\n\r]"
TEXT_PATTERN = rf"^{SEPARATOR}*{NUMBER_TEXT}(?:{SEPARATOR}+{NUMBER_TEXT})*{SEPARATOR}*$"
MAX_TEXT = 2 * MAX_VALUES - 1


def calc_in_schema(schema: dict) -> None:
    """What the endpoint takes, exactly (issue 17): numbers or text, one of them."""
    number = {"type": "number", "minimum": -MAX_ABS, "maximum": MAX_ABS}
    schema["properties"] = {
        "numbers": {"title": "Numbers", "type": "array", "minItems": 1,
                    "maxItems": MAX_VALUES, "items": number},
        "text": {"title": "Text", "type": "string", "pattern": TEXT_PATTERN,
                 "maxLength": MAX_TEXT},
    }
    schema["oneOf"] = [{"required": ["numbers"]}, {"required": ["text"]}]
    schema["example"] = {"numbers": [4, 8, 15, 16, 23, 42]}


class CalcIn(Schema):
    # Checked by the endpoint, with the page's messages; the schema says the same.
    numbers: list[StrictInt | StrictFloat] | None = None
    text: str | None = None

    model_config = ConfigDict(json_schema_extra=calc_in_schema)


def refuse(field: str, message: str, code: str):
    raise InvalidInput({field: [{"message": message, "code": code}]})


@router.post("/jobs", response={201: JobOut, **SUBMIT_ERRORS},
             summary='Compute statistics: {"numbers": [4, 8, 15]} or {"text": "4, 8, 15"}')
def submit(request, payload: CalcIn):
    check_submission(request)
    for name in ("numbers", "text"):
        if name in payload.model_fields_set and getattr(payload, name) is None:
            refuse(name, f"{name} may not be null; leave it out instead.", "null")
    if payload.numbers is not None and payload.text is not None:
        refuse("request", "Send either numbers or text, not both.", "ambiguous")
    field = "text" if payload.text is not None else "numbers"
    # The form parses and checks text, so the API's messages are the pages' own.
    if payload.text is not None:
        text = payload.text
    else:
        text = " ".join(repr(value) for value in payload.numbers or [])
    form = NumbersForm({"numbers": text})
    if not form.is_valid():
        raise InvalidInput({field: form_errors(form)["numbers"]})
    if payload.text is not None and (len(text) > MAX_TEXT or not re.match(TEXT_PATTERN, text)):
        refuse("text", "Send decimal numbers of at most 15 digits before the point and 20 "
               f"after, without exponents, in at most {MAX_TEXT:,} characters "
               "(or send them as numbers).", "pattern")
    job = CalcJob.submit(numbers=form.cleaned_data["numbers"], **ownership(request))
    return Status(201, job_out(request, job))


@router.get("/jobs/{job_id}/log", response={409: Problem, **ERRORS}, url_name="calc_log",
            summary="The worker's log file (text), or a redirect to it on S3; 409 until "
            "the job is done",
            openapi_extra={"responses": {
                "200": {"description": "The log", "content": {"text/plain": {
                    "schema": {"type": "string"}}}},
                "302": {"description": "A presigned S3 URL of the log"}}})
def log(request, job_id: UUID):
    job = get_my_job(request, "calc", job_id, fresh=False)
    if job.status != JobStatus.DONE:
        raise Conflict(f"The job is {job.status}; its log exists once it is done.")
    return serve_log(job)
