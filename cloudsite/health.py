"""Liveness and readiness, answered before the rest of the site (docs/design.md §8).

GET /healthz is liveness, the load balancer's question "can this process serve?":
200 whenever the request reaches Django, whatever the database or SQS say. An RDS
failover (about 30 s) must not fail every web instance at once and make Auto
Scaling replace the whole tier; the pages report a database error on their own.

GET /readyz is readiness: 200 when the database answers and every tool's queues
resolve, 503 naming what failed. The boot waits on it before the instance enters
service, and operators (and the admin's Queues page) read it. Cheap: one SELECT 1
and queue-URL lookups (cached by workers.aws after the first success), never a
receive.
"""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.db import DatabaseError, connection
from django.http import JsonResponse

from jobs import tools
from workers import aws

LIVENESS = "/healthz"
READINESS = "/readyz"
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
                log.warning("readyz: queue %s does not resolve: %s", name, error)
                missing.append(name)
    return f"queues: {', '.join(missing)}" if missing else None


def healthz(request):
    # Nothing to check: reaching this line is what liveness means.
    return JsonResponse({"status": "ok"})


def readyz(request):
    failed = [problem for problem in (check_database(), check_queues()) if problem]
    if failed:
        return JsonResponse({"status": "unavailable", "failed": failed}, status=503)
    return JsonResponse({"status": "ok"})


ANSWERS = {LIVENESS: healthz, READINESS: readyz}


class HealthCheckMiddleware:
    """Answer /healthz and /readyz before any other middleware looks at the request.

    The load balancer's health check is plain HTTP with the instance's IP as
    Host: it must neither meet ALLOWED_HOSTS (which stays the site's own
    names) nor SecurityMiddleware's redirect to HTTPS. Only these paths, only
    GET/HEAD, and the answer reveals nothing but ok or what is down.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        answer = ANSWERS.get(request.path_info)
        if answer is not None and request.method in ("GET", "HEAD"):
            return answer(request)
        return self.get_response(request)
