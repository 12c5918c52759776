from django.http import HttpResponse
from django.views.decorators.http import require_GET

from workers.web import get_job, refresh

from .models import EchoJob


@require_GET
def submit(request):
    return HttpResponse("echo form")


@require_GET
def job_page(request, job_id):
    job = refresh(get_job(request, EchoJob, job_id))
    return HttpResponse(f"{job.status} {job.echo}")
