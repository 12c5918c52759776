"""Abuse limits on submissions, shared by the page views and the API.

Each is off at 0, and staff are held to them unless CLOUDSITE_LIMITS_EXEMPT_STAFF is set:
* submissions per client address per minute: a counter on the address's Submitter row,
  raised by one UPDATE, which the database applies atomically (a cache's get-then-set
  `incr`, as the database cache has, lets parallel requests read the same count);
* jobs waiting at once, per browser session, per account and per client address (so a
  client that drops its cookies does not start afresh). Job.submit runs the Admission in
  the transaction that inserts the job, holding the submitters' rows locked: SELECT ...
  FOR UPDATE on PostgreSQL; on SQLite every transaction begins IMMEDIATE
  (settings.DATABASES), so writers run one at a time. A racing submission waits for the
  lock and then counts the job that got in first.
"""

import functools
import ipaddress
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.http import HttpRequest
from django.shortcuts import render

from jobs import tools
from jobs.models import ACTIVE

from .models import Submitter

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


def login_address(request: HttpRequest) -> str | None:
    """The address django-axes records a login under: client_address, or None when that
    is not an IP address (a login made in code, with no request behind it), since axes
    stores it in an IP-address column that PostgreSQL checks."""
    address = client_address(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


def is_exempt(person) -> bool:
    return bool(settings.CLOUDSITE_LIMITS_EXEMPT_STAFF and person is not None
                and getattr(person, "is_staff", False))


def subjects(owner: str = "", user=None, client: str = "") -> list[tuple[str, dict, int]]:
    """(Submitter key, the Job filter of their jobs, their queued limit) of each submitter."""
    found = []
    if owner:
        found.append((f"session:{owner}", {"owner": owner},
                      settings.CLOUDSITE_QUEUED_PER_SESSION))
    if user is not None:
        found.append((f"user:{user.pk}", {"user": user}, settings.CLOUDSITE_QUEUED_PER_SESSION))
    if client:
        found.append((f"ip:{client}", {"client": client}, settings.CLOUDSITE_QUEUED_PER_CLIENT))
    return [subject for subject in found if subject[2]]


class Admission:
    """What Job.submit(admit=...) runs inside its transaction: lock the submitters' rows,
    count their waiting jobs, refuse past a limit; the insert follows under the lock."""

    def __init__(self, owner: str = "", user=None, client: str = ""):
        self.subjects = [] if is_exempt(user) else subjects(owner, user, client)

    def __call__(self, model) -> None:
        if not self.subjects:
            return
        keys = sorted(key for key, _, _ in self.subjects)  # one order: no deadlocks
        Submitter.objects.bulk_create([Submitter(key=key) for key in keys],
                                      ignore_conflicts=True)
        list(Submitter.objects.select_for_update().filter(key__in=keys).order_by("key"))
        for _, whose, limit in self.subjects:
            check_queued(whose, limit)


def queued(whose: dict) -> int:
    return sum(tool.model.objects.filter(status__in=ACTIVE, **whose).count()
               for tool in tools.installed())


def check_queued(whose: dict, limit: int) -> None:
    waiting = queued(whose)
    if limit and waiting >= limit:
        what = "from your address" if "client" in whose else "waiting"
        raise SubmissionRefused(
            f"You have {waiting} jobs {what}; at most {limit} may wait at once. "
            "Submit again when one of them has finished.", QUEUED_RETRY_AFTER)


def check_submission(request: HttpRequest, user=None) -> None:
    """Count this submission against the address's rate, and refuse it early if a queued
    limit is already reached (before a body is parsed); Admission is the check that holds.

    The API passes its token's `user` (its requests carry no session)."""
    person = user if user is not None else getattr(request, "user", None)
    if is_exempt(person):
        return
    if user is None:
        from .pages import OWNER_KEY  # (pages imports the reconciler; keep this module light)
        owner = request.session.get(OWNER_KEY, "")
        user = person if person is not None and person.is_authenticated else None
    else:
        owner = ""
    for _, whose, limit in subjects(owner, user, client_address(request)):
        check_queued(whose, limit)
    check_rate(client_address(request))


def check_rate(address: str) -> None:
    limit = settings.CLOUDSITE_SUBMISSIONS_PER_MINUTE
    if not limit:
        return
    now = time.time()
    window = int(now // WINDOW)
    key = f"ip:{address}"
    with transaction.atomic():
        Submitter.objects.bulk_create([Submitter(key=key)], ignore_conflicts=True)
        # One statement reads and writes the count (SET's right-hand sides see the old
        # row), and the row stays locked until the transaction ends.
        Submitter.objects.filter(key=key).update(
            submissions=Case(When(window=window, then=F("submissions") + 1), default=Value(1)),
            window=window)
        count = Submitter.objects.filter(key=key).values_list("submissions", flat=True).get()
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
    """Apply check_submission to a view's POSTs, and answer 429 with a page when it or the
    Admission inside Job.submit refuses."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            if request.method == "POST":
                check_submission(request)
            return view(request, *args, **kwargs)
        except SubmissionRefused as refused:
            return refusal_page(request, refused)
    return wrapped
