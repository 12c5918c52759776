from django.shortcuts import render
from django.views.decorators.http import require_GET

from cloudsite.pages import owned_by
from jobs import tools

RECENT = 10


@require_GET
def home(request):
    recent = []
    for tool in tools.installed():
        recent += [(tool, job) for job in tool.model.objects.filter(owned_by(request))[:RECENT]]
    recent.sort(key=lambda row: row[1].created_at, reverse=True)
    return render(request, "home.html", {"recent": recent[:RECENT]})
