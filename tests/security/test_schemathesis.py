"""A bounded schemathesis run over /api/schema/ for each role: no 5xx, every answer as documented.

A few generated requests per operation (positive data), through the real WSGI application on
the test database; any 5xx, undocumented status code, content type or body fails the test.
"""

import functools
import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.celery import app as celery_app
from tests.settlements.conftest import Claims

pytestmark = pytest.mark.django_db
EXAMPLES_PER_OPERATION = 2
SCHEMA_URL = "/api/schema/"


@functools.cache
def api_schema() -> dict:
    """The served schema, fetched once for every role (generating it is the slow part)."""
    from django.test import Client

    response = Client().get(SCHEMA_URL, HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def wsgi_app():
    """The WSGI app inside the test's transaction: its request signals must not close the connection."""
    api_schema()  # through the test client, which connects the signals again when done
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True  # a document request is generated in place, not queued
    yield WSGIHandler()
    celery_app.conf.task_always_eager = eager
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def data(make_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    claims = Claims(make_user)
    finance = make_user("fay-finance", "finance")
    accepted = claims.accepted("10.00")
    claims.approved("20.00", merchant=claims.merchant("silk", "Silk Road"))
    from settlements.services import settlements as st

    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance, claim_ids=[accepted.pk])
    return {
        "merchant": claims.user_of(accepted.merchant),
        "support": claims.support,
        "finance": finance,
        "anonymous": None,
    }


def fuzz(operation, headers):
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        phases=[Phase.generate],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    return run


@pytest.mark.parametrize("role", ["anonymous", "merchant", "support", "finance"])
def test_api_answers_as_documented_for_each_role(wsgi_app, data, role):
    schema = schemathesis.openapi.from_dict(api_schema())
    schema.app, schema.location = wsgi_app, SCHEMA_URL
    user = data[role]
    headers = {"Authorization": f"Token {Token.objects.create(user=user).key}"} if user else {}
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz(operation, headers)()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (one report for every operation)
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
