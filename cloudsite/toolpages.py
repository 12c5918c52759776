"""Generic pages for a tool app that brings none of its own (no urls.py).

A form of the model's request fields, the job page and its status JSON: enough for a
new tool to be used, owned and watched like CloudCal and CloudPic before it has pages
of its own. The URL names are the ones every tool has: `<app label>:submit`, `:job`,
`:status`.
"""

from django.forms import modelform_factory
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from jobs.models import Status
from jobs.tools import Tool

from .limits import limit_submissions
from .pages import ownership, shown_job, status_payload, status_response


def urls_of(tool: Tool):
    """What cloudsite/urls.py includes at /<app label>/ for `tool`."""
    if tool.own_pages:
        return f"{tool.app_module}.urls"
    return urlpatterns_for(tool), tool.app_label


def job_paths(submit, job_page, job_status, **kwargs) -> list:
    """The three pages every tool has, under the names the site links to (the nav, the
    home page, the status poller): a tool's own urls.py starts with these too."""
    return [
        path("", submit, kwargs, name="submit"),
        path("jobs/<uuid:job_id>/", job_page, kwargs, name="job"),
        path("jobs/<uuid:job_id>/status", job_status, kwargs, name="status"),
    ]


def urlpatterns_for(tool: Tool) -> list:
    return job_paths(submit, job_page, job_status, tool=tool)


def result_of(job) -> dict:
    return {name: getattr(job, name) for name in job.result_fields}


@require_http_methods(["GET", "POST"])
@limit_submissions
def submit(request, tool: Tool):
    form_class = modelform_factory(tool.model, fields=tool.model.request_fields)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        job = tool.model.submit(**form.cleaned_data, **ownership(request))
        return redirect(tool.job_url, job_id=job.id)
    return render(request, "jobs/submit.html", {"tool": tool, "form": form})


@require_GET
def job_page(request, tool: Tool, job_id):
    job = shown_job(request, tool.model, job_id)
    return render(request, "jobs/job.html", {"tool": tool, "job": job, "result": result_of(job)})


@require_GET
def job_status(request, tool: Tool, job_id):
    job = shown_job(request, tool.model, job_id)
    payload = status_payload(job)
    if job.status == Status.DONE:
        payload["result"] = result_of(job)
    return status_response(payload)
