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
