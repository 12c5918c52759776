from django.shortcuts import render
from django.views.decorators.http import require_GET

from calc.models import CalcJob
from pic.models import PicJob
from workers.web import owned_by

RECENT = 10
TOOLS = [("CloudCal", "calc:job", CalcJob), ("CloudPic", "pic:job", PicJob)]


@require_GET
def home(request):
    recent = []
    for label, url_name, model in TOOLS:
        jobs = model.objects.filter(owned_by(request))[:RECENT]
        recent += [(label, url_name, job) for job in jobs]
    recent.sort(key=lambda row: row[2].created_at, reverse=True)
    return render(request, "home.html", {"recent": recent[:RECENT]})
