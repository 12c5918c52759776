"""The Content-Security-Policy header.

A fixed policy from settings needs no nonces or per-view changes, so a dozen lines
serve better than a dependency (django-csp); Django 6.0 has this built in.
"""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class PrivateCacheMiddleware:
    """`Cache-Control: private, no-store` on every answer that does not set its own.

    Job pages, their status JSON, logs, images (or the redirects to their presigned
    URLs) and the API's JSON belong to one user: no shared cache (a proxy, a CDN) may
    keep them, and the browser should not write them to disk. Static files keep the
    long cache WhiteNoise gives them; admin keeps Django's never_cache."""

    VALUE = "private, no-store"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response:
            response["Cache-Control"] = self.VALUE
        return response
