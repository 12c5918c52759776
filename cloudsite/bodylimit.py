"""Every request body is bounded before anything reads it (issue 17).

Django bounds what it keeps of a body only per part: the upload handler (pic/uploads.py)
caps each file, and DATA_UPLOAD_MAX_MEMORY_SIZE the form fields, so one POST with many
file parts could spool gigabytes to the temporary directory, on any URL and before the
CSRF check refuses it (CsrfViewMiddleware parses the body to find the token). This
middleware runs before anything that reads the body and gives each route a cap on the
whole body (settings.CLOUDSITE_BODY_LIMITS, else CLOUDSITE_MAX_BODY_BYTES):

* With a Content-Length (every browser form, the cloudsite client), Django reads exactly
  that many bytes and never more, so a length over the cap is refused at once with 413
  and nothing of the body is read.
* Without one (Transfer-Encoding: chunked), only a server that ends the stream itself
  (PEP 3333's wsgi.input_terminated, as gunicorn does) lets an application read the body;
  Django would read none of it. Here it is read in chunks, into memory, and refused with
  413 as soon as it passes the cap, so at most the cap (plus one chunk) is ever held.
  Routes whose cap is more than Django would hold in memory (the photo uploads) answer
  411 Length Required instead: they must say their length.

Answers are problem details under /api/ and a short page elsewhere.
"""

import io
import json
from http import HTTPStatus

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat

CHUNK = 64 * 1024
PROBLEM_TYPE = "application/problem+json"


def cap_for(path_info: str) -> int:
    """The most bytes a request body to this path may have."""
    return settings.CLOUDSITE_BODY_LIMITS.get(path_info, settings.CLOUDSITE_MAX_BODY_BYTES)


def refusal(request, status: int, detail: str) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status,
                "detail": detail}
        response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_TYPE)
    else:
        response = render(request, "too_large.html", {"detail": detail}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def bytes_shown(size: int) -> str:
    return filesizeformat(size).replace("\xa0", " ")


def too_large(request, cap: int, size: int | None) -> HttpResponse:
    # One log line, Django's own (django.request logs every 4xx answer at WARNING).
    sent = bytes_shown(size) if size is not None else f"more than {bytes_shown(cap)}"
    return refusal(request, 413, f"The request body is {sent}; "
                                 f"this address takes at most {bytes_shown(cap)}.")


class BodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        cap = cap_for(request.path_info)
        length = request.META.get("CONTENT_LENGTH")
        if length:
            try:
                size = int(length)
            except ValueError:
                size = 0  # Django then reads nothing of the body
            if size > cap:
                return too_large(request, cap, size)
        elif request.META.get("wsgi.input_terminated"):
            refused = self.read_unsized_body(request, cap)
            if refused is not None:
                return refused
        return self.get_response(request)

    def read_unsized_body(self, request, cap: int) -> HttpResponse | None:
        """Read a body of unknown length, at most cap + 1 bytes, and hand it to Django."""
        stream = request.environ["wsgi.input"]
        body = io.BytesIO()
        try:
            first = stream.read(1)
            if not first:
                return None  # no body at all: nothing to bound
            in_memory = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if in_memory is not None and cap > in_memory:
                return refusal(request, 411, "Send this request with a Content-Length.")
            body.write(first)
            while chunk := stream.read(min(CHUNK, cap + 1 - body.tell())):
                body.write(chunk)
                if body.tell() > cap:
                    return too_large(request, cap, None)
        except Exception:
            # The server's reader raises its own errors for a cut-off or malformed chunked
            # body (gunicorn: NoMoreData, InvalidChunkSize, ...): nothing usable arrived.
            return refusal(request, 400, "The request body could not be read.")
        # Django reads a WSGI body through request._stream, limited by CONTENT_LENGTH:
        # give it the body read here, and its length, so forms and uploads parse as usual.
        size = body.tell()
        body.seek(0)
        request.META["CONTENT_LENGTH"] = str(size)
        request._stream = LimitedStream(body, size)
        return None
