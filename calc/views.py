from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from cloudsite import pages
from cloudsite.limits import limit_submissions
from jobs.models import Status

from .chart import chart
from .forms import NumbersForm, random_numbers
from .models import CalcJob
from .replies import chartable


@require_http_methods(["GET", "POST"])
@limit_submissions
def submit(request):
    if request.method == "POST":
        form = NumbersForm(request.POST)
        if form.is_valid():
            job = CalcJob.submit(numbers=form.cleaned_data["numbers"], **pages.ownership(request))
            return redirect("calc:job", job_id=job.id)
    else:
        form = NumbersForm(initial={"numbers": random_numbers()})
    return render(request, "calc/submit.html", {"form": form})


@require_GET
def job_page(request, job_id):
    job = pages.shown_job(request, CalcJob, job_id)
    context = {"job": job}
    if job.status == Status.DONE:
        context["result"] = job.shown_result
        if chartable(job.numbers, context["result"]):
            context["chart"] = chart(job.numbers, context["result"])
    return render(request, "calc/job.html", context)


@require_GET
def job_status(request, job_id):
    job = pages.shown_job(request, CalcJob, job_id)
    payload = pages.status_payload(job)
    if job.status == Status.DONE:
        payload["result"] = job.shown_result
    return pages.status_response(payload)


@require_GET
def job_log(request, job_id):
    return serve_log(pages.get_job(request, CalcJob, job_id))


def serve_log(job: CalcJob):
    """The job's log, for the page and the API (calc/api.py). Only the job's own key is
    ever served, whatever an older version stored."""
    return pages.serve_object(job.log_key if job.log_is_own else "", "text/plain; charset=utf-8")
