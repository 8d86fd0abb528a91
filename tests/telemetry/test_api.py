"""The signed webhook, the JSON batch and CSV API, and the window list."""

import json
import time
from datetime import timedelta

import pytest
from django.urls import reverse

from incidents.models import WebhookSource
from incidents.services import webhook_signature
from telemetry.models import TelemetryWindow

from .conftest import csv_bytes, row, sh

START = sh(2026, 11, 1)
SECRET = "telemetry-secret"


def rows(n=3, **kw):
    return [row((START + timedelta(minutes=5 * i)).isoformat(), **kw) for i in range(n)]


@pytest.fixture
def source(catalogue):
    return WebhookSource.objects.create(name="prom", secret=SECRET)


def post_webhook(client, payload, *, secret=SECRET, timestamp=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return client.post(
        reverse("telemetry_api:webhook"),
        data=body,
        content_type="application/json",
        HTTP_X_INCIDENT_SOURCE="prom",
        HTTP_X_INCIDENT_TIMESTAMP=ts,
        HTTP_X_INCIDENT_SIGNATURE=webhook_signature(secret=secret, timestamp=ts, body=body),
    )


def test_webhook_stores_a_signed_batch_once(client, source):
    response = post_webhook(client, {"windows": rows()})
    assert response.status_code == 200, response.content
    assert response.json() == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0}
    assert post_webhook(client, rows()).json()["unchanged"] == 3
    assert set(TelemetryWindow.objects.values_list("source", flat=True)) == {"webhook:prom"}


def test_webhook_refuses_bad_signature_and_old_timestamp(client, source):
    assert post_webhook(client, rows(), secret="wrong").status_code == 401
    assert post_webhook(client, rows(), timestamp=int(time.time()) - 3600).status_code == 401
    assert not TelemetryWindow.objects.exists()


def test_webhook_bad_row_is_named_and_nothing_stored(client, source):
    batch = rows()
    batch[2]["region"] = "mars"
    response = post_webhook(client, batch)
    assert response.status_code == 400
    assert response.json() == {"line": 3, "column": "region", "error": "unknown region 'mars'"}
    assert not TelemetryWindow.objects.exists()
    assert post_webhook(client, None, raw=b"{not json").status_code == 400


def test_api_batch_and_csv_for_support_only(client, catalogue, support_user, finance_user):
    client.force_login(finance_user)
    assert client.post(reverse("telemetry_api:windows"), rows(), content_type="application/json").status_code == 403
    client.force_login(support_user)
    response = client.post(reverse("telemetry_api:windows"), rows(), content_type="application/json")
    assert response.status_code == 200 and response.json()["created"] == 3
    data = csv_bytes(rows(4, failed=2)).getvalue()
    response = client.post(reverse("telemetry_api:import"), data=data, content_type="text/csv")
    assert response.json() == {"rows": 4, "created": 1, "updated": 3, "unchanged": 0}
    bad = csv_bytes(rows(2, failed=2000)).getvalue()
    response = client.post(reverse("telemetry_api:import"), data=bad, content_type="text/csv")
    assert response.status_code == 400 and response.json()["line"] == 2


def test_list_filters(client, catalogue, finance_user):
    from telemetry.services import ingest_windows

    ingest_windows(rows=rows(3) + rows(2, region="cn-south", failed=10), source="t")
    client.force_login(finance_user)
    url = reverse("telemetry_api:windows")
    data = client.get(url, {"region": "cn-south"}).json()
    assert data["count"] == 2 and data["results"][0]["error_rate_percent"] == "1.0000"
    end = (START + timedelta(minutes=5)).isoformat()
    assert client.get(url, {"start": START.isoformat(), "end": end}).json()["count"] == 2
    assert client.get(url, {"start": "yesterday"}).status_code == 400
    client.logout()
    assert client.get(url).status_code == 403
