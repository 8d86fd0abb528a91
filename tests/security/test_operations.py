"""Operations: stale connections, /healthz, optional Sentry, CSP, production refusals."""

import subprocess
import sys

import psycopg
import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory
from rest_framework.authtoken.models import Token

from tests.foundation.test_settings import ROOT, run_manage


def _terminate(pid):
    """What a database restart or a failover does to the web process's kept connection."""
    params = connection.get_connection_params()
    dsn = {k: params[k] for k in ("dbname", "user", "host", "port") if params.get(k)}
    with psycopg.connect(**dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True)
def test_a_request_on_a_connection_the_database_dropped_is_no_500(make_user):
    """Through the real WSGI handler, whose request signals decide whether a kept connection is reused."""
    token = Token.objects.create(user=make_user("support", "support"))
    handler = WSGIHandler()

    def get():
        environ = RequestFactory().get("/api/incidents/", HTTP_AUTHORIZATION=f"Token {token.key}").environ
        status = []
        b"".join(handler(environ, lambda s, headers, exc_info=None: status.append(s)))
        return int(status[0].split()[0])

    assert get() == 200
    _terminate(connection.connection.info.backend_pid)
    assert get() == 200


def test_connection_health_checks_are_on():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db(transaction=True)
def test_healthz_with_a_worker(client, celery_worker_thread):
    response = client.get("/healthz")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "celery": "ok"}


@pytest.mark.django_db
def test_healthz_without_a_worker_is_503(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok" and body["redis"] == "ok" and body["celery"].startswith("error")


@pytest.mark.django_db
def test_healthz_names_an_unreachable_redis(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    body = client.get("/healthz").json()
    assert body["redis"].startswith("error") and body["celery"] == "error: no broker"


@pytest.mark.django_db
def test_every_response_has_a_content_security_policy(client, api_client):
    for response in (client.get("/login/"), api_client.get("/api/incidents/"), client.get("/api/docs/")):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "object-src 'none'" in policy and "frame-ancestors 'none'" in policy


def _settings_probe(env_extra, code):
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "PATH": "/usr/bin:/bin"}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_sentry_reports_only_when_a_dsn_is_set():
    probe = "import sentry_sdk; c = sentry_sdk.get_client(); print(c.is_active(), c.dsn)"
    on = _settings_probe({"SENTRY_DSN": "https://public@sentry.example.invalid/1"}, probe)
    assert on.returncode == 0, on.stderr
    assert on.stdout.split()[0] == "True" and "sentry.example.invalid" in on.stdout
    off = _settings_probe({}, probe)
    assert off.returncode == 0, off.stderr
    assert off.stdout.split()[0] == "False"


PRODUCTION = {"DJANGO_PRODUCTION": "1", "ALLOWED_HOSTS": "claims.example.com"}
GOOD_KEY = "x" * 20 + "production-secret-with-enough-entropy-4f9a8b7c6d5e"


def test_production_refuses_debug():
    result = run_manage("check", env_extra={**PRODUCTION, "SECRET_KEY": GOOD_KEY, "DEBUG": "1"})
    assert result.returncode != 0 and "DEBUG must be off" in result.stderr


def test_production_refuses_the_demo_secret_key():
    from config.settings import _DEMO_SECRET

    result = run_manage("check", env_extra={**PRODUCTION, "SECRET_KEY": _DEMO_SECRET})
    assert result.returncode != 0 and "not the demo key" in result.stderr
