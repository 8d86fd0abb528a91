import json
import time

import pytest
from django.urls import reverse

from incidents.models import Incident, IncidentState, IncidentUpdate
from incidents.services import webhook_signature

from .conftest import record_data

SECRET = "demo-webhook-secret"  # created by seed_catalogue for source "statuswatch"


def post(client, payload, *, secret=SECRET, timestamp=None, source="statuswatch", signature=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"HTTP_X_INCIDENT_SOURCE": source, "HTTP_X_INCIDENT_TIMESTAMP": ts}
    sig = signature if signature is not None else webhook_signature(secret=secret, timestamp=ts, body=body)
    if sig:
        headers["HTTP_X_INCIDENT_SIGNATURE"] = sig
    return client.post(reverse("incidents_api:webhook"), data=body, content_type="application/json", **headers)


def test_good_signature_creates_incident(client, catalogue):
    response = post(client, record_data())
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(source="statuswatch", external_id="SW-1")
    assert incident.state == IncidentState.DETECTED
    assert [r.code for r in incident.regions.all()] == ["cn-east"]
    assert incident.updates.get().origin == "webhook:statuswatch"


def test_bad_signature_is_refused_and_writes_nothing(client, catalogue):
    response = post(client, record_data(), secret="wrong-secret")
    assert response.status_code == 401
    assert response.json()["detail"] == "bad signature"
    assert not Incident.objects.exists()


def test_missing_signature_is_refused(client, catalogue):
    response = post(client, record_data(), signature="")
    assert response.status_code == 401
    assert not Incident.objects.exists()


def test_tampered_body_is_refused(client, catalogue):
    body = json.dumps(record_data()).encode()
    ts = str(int(time.time()))
    sig = webhook_signature(secret=SECRET, timestamp=ts, body=body)
    tampered = body.replace(b"major_outage", b"partial_outage")
    response = post(client, None, raw=tampered, timestamp=ts, signature=sig)
    assert response.status_code == 401


@pytest.mark.parametrize("offset", [-301, 301])
def test_stale_or_future_timestamp_is_refused(client, catalogue, offset):
    response = post(client, record_data(), timestamp=int(time.time()) + offset)
    assert response.status_code == 401
    assert "timestamp" in response.json()["detail"]
    assert not Incident.objects.exists()


def test_timestamp_within_five_minutes_is_accepted(client, catalogue):
    assert post(client, record_data(), timestamp=int(time.time()) - 290).status_code == 201


def test_unknown_source_is_refused(client, catalogue):
    assert post(client, record_data(), source="nobody").status_code == 401


def test_redelivery_is_idempotent(client, catalogue):
    payload = record_data(updated_at="2026-10-05T20:03:00+08:00")
    assert post(client, payload).status_code == 201
    second = post(client, payload)
    assert second.status_code == 200
    assert second.json()["outcome"] == "unchanged"
    assert Incident.objects.count() == 1
    assert IncidentUpdate.objects.count() == 1


def test_updates_move_the_state_and_record_the_timeline(client, catalogue):
    post(client, record_data(updated_at="2026-10-05T20:03:00+08:00"))
    response = post(
        client,
        record_data(
            acknowledged_at="2026-10-05T20:05:00+08:00",
            resolved_at="2026-10-05T21:00:00+08:00",
            updated_at="2026-10-05T21:01:00+08:00",
        ),
    )
    assert response.json()["outcome"] == "updated"
    incident = Incident.objects.get()
    assert incident.state == IncidentState.RESOLVED
    assert incident.resolved_at.isoformat() == "2026-10-05T13:00:00+00:00"
    transitions = list(incident.updates.filter(kind="transition").values_list("from_state", "to_state"))
    assert transitions == [("detected", "acknowledged"), ("acknowledged", "resolved")]


def test_older_update_arriving_late_is_ignored(client, catalogue):
    post(
        client,
        record_data(
            resolved_at="2026-10-05T21:00:00+08:00",
            acknowledged_at="2026-10-05T20:05:00+08:00",
            updated_at="2026-10-05T21:01:00+08:00",
        ),
    )
    late = post(client, record_data(title="older title", updated_at="2026-10-05T20:10:00+08:00"))
    assert late.status_code == 200
    assert late.json()["outcome"] == "stale"
    incident = Incident.objects.get()
    assert incident.state == IncidentState.RESOLVED
    assert incident.title == "rtc-video down in cn-east"


def test_invalid_payload_names_the_field(client, catalogue):
    response = post(client, record_data(impact="apocalypse", started_at="2026-10-05T20:00:00"))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "impact" in errors
    assert "UTC offset" in errors["started_at"][0]


def test_void_from_monitoring(client, catalogue):
    post(client, record_data(updated_at="2026-10-05T20:03:00+08:00"))
    response = post(client, record_data(status="voided", updated_at="2026-10-05T20:30:00+08:00"))
    assert response.json()["state"] == "voided"
    # A voided incident cannot come back.
    again = post(client, record_data(resolved_at="2026-10-05T21:00:00+08:00", updated_at="2026-10-05T21:00:00+08:00"))
    assert again.status_code == 409
