from django.shortcuts import render
from django.views.decorators.http import require_GET

from calc.models import CalcJob
from pic.models import PicJob
from workers.web import OWNER_KEY

RECENT = 10
TOOLS = [("CloudCal", "calc:job", CalcJob), ("CloudPic", "pic:job", PicJob)]


@require_GET
def home(request):
    token = request.session.get(OWNER_KEY)
    recent = []
    if token:
        for label, url_name, model in TOOLS:
            recent += [(label, url_name, job) for job in model.objects.filter(owner=token)[:RECENT]]
        recent.sort(key=lambda row: row[2].created_at, reverse=True)
    return render(request, "home.html", {"recent": recent[:RECENT]})
