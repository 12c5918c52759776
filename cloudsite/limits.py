"""Abuse limits on submissions, shared by the page views and the API.

Two limits, both off at 0 and neither applying to staff:
* submissions per client (IP address) per minute, counted in the shared cache (the
  database cache by default, so every web process sees the same count);
* jobs one browser session may have queued at once, counted from the job rows.
"""

import functools
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.shortcuts import render

from jobs import tools
from jobs.models import ACTIVE

WINDOW = 60  # seconds
QUEUED_RETRY_AFTER = 30  # seconds; a queued job usually ends well within this


class SubmissionRefused(Exception):
    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def client_address(request: HttpRequest) -> str:
    if settings.CLOUDSITE_TRUST_X_FORWARDED_FOR:
        # The load balancer appends the address it saw; anything before it is the client's
        # own claim.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return request.META.get("REMOTE_ADDR", "unknown")[:64]


def check_submission(request: HttpRequest, user=None) -> None:
    """Raise SubmissionRefused if this request may not submit a job now.

    Jobs waiting are counted per browser session, or per `user` for the API (whose
    requests carry a token, not a session)."""
    person = user if user is not None else getattr(request, "user", None)
    if person is not None and person.is_staff:
        return
    if user is not None:
        check_queued({"user": user})
    else:
        from .pages import OWNER_KEY  # (web imports the reconciler; keep this module light)
        owner = request.session.get(OWNER_KEY)
        if owner:
            check_queued({"owner": owner})
    check_rate(client_address(request))


def check_queued(whose: dict) -> None:
    limit = settings.CLOUDSITE_QUEUED_PER_SESSION
    if not limit:
        return
    queued = sum(tool.model.objects.filter(status__in=ACTIVE, **whose).count()
                 for tool in tools.installed())
    if queued >= limit:
        raise SubmissionRefused(
            f"You have {queued} jobs waiting; at most {limit} may wait at once. "
            "Submit again when one of them has finished.", QUEUED_RETRY_AFTER)


def check_rate(address: str) -> None:
    limit = settings.CLOUDSITE_SUBMISSIONS_PER_MINUTE
    if not limit:
        return
    now = time.time()
    window = int(now // WINDOW)
    key = f"cloudsite:submissions:{address}:{window}"
    cache.add(key, 0, timeout=WINDOW * 2)
    count = cache.incr(key)
    if count > limit:
        retry_after = max(1, int((window + 1) * WINDOW - now) + 1)
        raise SubmissionRefused(
            f"At most {limit} jobs a minute may be submitted from one address. "
            f"Please try again in {retry_after} seconds.", retry_after)


def refusal_page(request: HttpRequest, refused: SubmissionRefused):
    response = render(request, "too_many.html", {"refused": refused}, status=429)
    response["Retry-After"] = str(refused.retry_after)
    return response


def limit_submissions(view):
    """Apply check_submission to a view's POSTs, answering 429 with a page on refusal."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            try:
                check_submission(request)
            except SubmissionRefused as refused:
                return refusal_page(request, refused)
        return view(request, *args, **kwargs)
    return wrapped
