"""The API's endpoints for every tool: the tools, the caller's jobs, one job, cancel.

They know no tool by name: whatever the installed tools are (jobs.tools), a job is
listed, shown and cancelled the same way. A tool's own endpoints (submit, its files)
live in its api module.
"""

from uuid import UUID

from django.db.models import CharField, Value
from django.http import Http404
from ninja import Query, Router, Schema

from jobs import tools

from .api import (
    ERRORS,
    Conflict,
    JobOut,
    JobPage,
    Problem,
    StatusName,
    ToolName,
    get_my_job,
    job_out,
    my_jobs,
)
from .pages import refresh

router = Router(tags=["jobs"])


class ToolOut(Schema):
    name: ToolName
    label: str
    summary: str


@router.get("/tools", response={200: list[ToolOut], **ERRORS},
            summary="The installed tools, by the names the other endpoints take")
def list_tools(request):
    return [{"name": t.name, "label": t.label, "summary": t.summary} for t in tools.installed()]


@router.get("/jobs", response={200: JobPage, **ERRORS},
            summary="The caller's jobs of every tool, newest first")
def list_jobs(request, tool: ToolName | None = None, status: StatusName | None = None,
              limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=10_000)):
    # One page chosen in SQL across the tools' tables (a UNION of id, time and tool
    # name), then only that page's rows read in full: memory and time stay flat however
    # many jobs the caller has. ninja's @paginate would slice and serialise one queryset
    # itself, but the rows of a page come from several models, read after the slice.
    names = [tool] if tool else [t.name for t in tools.installed()]
    heads = []
    for name in names:
        jobs = my_jobs(request, name)
        if status:
            jobs = jobs.filter(status=status)
        heads.append(jobs.order_by().values("id", "created_at")
                     .annotate(tool=Value(name, output_field=CharField())))
    page = heads[0].union(*heads[1:], all=True) if len(heads) > 1 else heads[0]
    count = page.count()
    chosen = list(page.order_by("-created_at", "-id")[offset:offset + limit])
    rows = {}
    for name in {head["tool"] for head in chosen}:
        ids = [head["id"] for head in chosen if head["tool"] == name]
        rows.update((job.pk, job) for job in my_jobs(request, name).filter(pk__in=ids))
    return {"count": count, "items": [job_out(request, rows[head["id"]]) for head in chosen]}


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS}, url_name="job",
            summary="One of the caller's jobs, of any tool; answers at once with its state")
def get_job(request, job_id: UUID):
    for tool in tools.installed():
        job = my_jobs(request, tool.name).filter(pk=job_id).first()
        if job is not None:
            return job_out(request, refresh(job))
    raise Http404("No such job, or it is not yours.")


@router.get("/{tool}/jobs/{job_id}", response={200: JobOut, **ERRORS}, url_name="tool_job",
            summary="One of the caller's jobs of this tool")
def get_tool_job(request, tool: ToolName, job_id: UUID):
    return job_out(request, get_my_job(request, tool, job_id))


@router.post("/{tool}/jobs/{job_id}/cancel", response={200: JobOut, 409: Problem, **ERRORS},
             summary="Cancel a queued job; a worker's later answer is ignored")
def cancel_job(request, tool: ToolName, job_id: UUID):
    job = get_my_job(request, tool, job_id)
    if not job.cancel():
        raise Conflict(f"The job is {job.status}; only a queued job can be cancelled.")
    return job_out(request, job)
