from django.shortcuts import render
from django.views.decorators.http import require_GET

from workers import tools
from workers.web import OWNER_KEY

RECENT = 10


@require_GET
def home(request):
    token = request.session.get(OWNER_KEY)
    recent = []
    if token:
        for tool in tools.installed():
            recent += [(tool, job) for job in tool.model.objects.filter(owner=token)[:RECENT]]
        recent.sort(key=lambda row: row[1].created_at, reverse=True)
    return render(request, "home.html", {"recent": recent[:RECENT]})
