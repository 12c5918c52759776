from django.shortcuts import render
from django.views.decorators.http import require_GET

from calc.models import CalcJob
from workers.web import OWNER_KEY

RECENT = 10


@require_GET
def home(request):
    token = request.session.get(OWNER_KEY)
    recent = []
    if token:
        recent = [("CloudCal", "calc:job", job)
                  for job in CalcJob.objects.filter(owner=token)[:RECENT]]
    return render(request, "home.html", {"recent": recent})
