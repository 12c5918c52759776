"""Schemathesis fuzzes every operation of the generated OpenAPI schema, with a token.

No answer may be a 5xx, and each must match the schema: its status code is documented,
its content type is the documented one, its body validates.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from calc.models import CalcJob

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def in_test_transaction():
    # Requests go straight to the WSGI app in this thread; keep Django from closing the
    # connection that holds the test's transaction, as its test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_the_schema(case, token, user, sqs_queues,
                                             in_test_transaction):
    # One job of the caller's, so a generated id is not the only way in.
    CalcJob.objects.get_or_create(
        id="00000000-0000-4000-8000-000000000000",
        defaults={"numbers": [1, 2], "user": user, "status": "done",
                  "result": {"count": 2, "min": 1, "max": 2, "mean": 1.5, "median": 1.5}})
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
