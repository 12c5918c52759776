"""GET /healthz: the load balancer's question "can this instance serve?" (docs/design.md §8).

200 with a small JSON body when the database answers and every tool's queues
resolve; 503 naming what failed. Cheap: one SELECT 1 and queue-URL lookups
(cached by workers.aws after the first success), never a receive.
"""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.db import DatabaseError, connection
from django.http import JsonResponse

from jobs import tools
from workers import aws

PATH = "/healthz"
log = logging.getLogger(__name__)


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return f"database: {error.__class__.__name__}"
    return None


def check_queues() -> str | None:
    missing = []
    for tool in tools.installed():
        for name, _ in tool.queues():
            try:
                aws.queue_url(name)
            except (BotoCoreError, ClientError) as error:
                log.warning("healthz: queue %s does not resolve: %s", name, error)
                missing.append(name)
    return f"queues: {', '.join(missing)}" if missing else None


def healthz(request):
    failed = [problem for problem in (check_database(), check_queues()) if problem]
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    return JsonResponse({"status": "ok"})


class HealthCheckMiddleware:
    """Answer /healthz before any other middleware looks at the request.

    The load balancer's health check is plain HTTP with the instance's IP as
    Host: it must neither meet ALLOWED_HOSTS (which stays the site's own
    names) nor SecurityMiddleware's redirect to HTTPS. Only this path, only
    GET/HEAD, and the answer reveals nothing but ok or what is down.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
