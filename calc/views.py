from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from workers.models import Status
from workers.web import get_job, owner_token, refresh, serve_object, status_payload, status_response

from .chart import chart
from .forms import NumbersForm, random_numbers
from .models import CalcJob


@require_http_methods(["GET", "POST"])
def submit(request):
    if request.method == "POST":
        form = NumbersForm(request.POST)
        if form.is_valid():
            with transaction.atomic():
                job = CalcJob.objects.create(numbers=form.cleaned_data["numbers"],
                                             owner=owner_token(request))
                job.enqueue()
            return redirect("calc:job", job_id=job.id)
    else:
        form = NumbersForm(initial={"numbers": random_numbers()})
    return render(request, "calc/submit.html", {"form": form})


@require_GET
def job_page(request, job_id):
    job = refresh(get_job(request, CalcJob, job_id))
    context = {"job": job}
    if job.status == Status.DONE:
        context["chart"] = chart(job.numbers, job.result)
    return render(request, "calc/job.html", context)


@require_GET
def job_status(request, job_id):
    job = refresh(get_job(request, CalcJob, job_id))
    payload = status_payload(job)
    if job.status == Status.DONE:
        payload["result"] = job.result
    return status_response(payload)


@require_GET
def job_log(request, job_id):
    job = get_job(request, CalcJob, job_id)
    return serve_object(job.log_key, "text/plain; charset=utf-8")
