"""The Alertmanager / Grafana receiver through Django's test client: authentication,
mapping, idempotency by fingerprint + startsAt, resolve, re-fire, grouped notifications,
unmapped alerts kept for staff."""

import base64
import json
import time

import pytest
from django.urls import reverse

from incidents.alert_services import grafana_signature
from incidents.models import AlertSource, Incident, IncidentState, IncidentUpdate, ReceivedAlert

ZERO = "0001-01-01T00:00:00Z"
TOKEN = "am-token-123"


@pytest.fixture
def make_user(db):
    """Users for force_login, without hashing a password (the slow part of the shared fixture)."""
    from django.contrib.auth.models import Group, User

    def _make(username, *role_names):
        user = User.objects.create(username=username)
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in role_names))
        return user

    return _make


@pytest.fixture
def am_source(catalogue):
    return AlertSource.objects.create(name="prom-am", kind="alertmanager", auth="bearer", token=TOKEN)


def alert(
    *,
    status="firing",
    fingerprint="aaaa000000000001",
    starts="2026-10-05T12:00:00.123456789Z",
    ends=ZERO,
    **labels,
):
    base = {"alertname": "RTCDown", "service": "rtc-video", "region": "cn-east", "severity": "critical"}
    base.update(labels)
    return {
        "status": status,
        "labels": {k: v for k, v in base.items() if v is not None},
        "annotations": {"summary": "RTC video down", "description": "error ratio above 50%"},
        "startsAt": starts,
        "endsAt": ends,
        "generatorURL": "http://prometheus/graph",
        "fingerprint": fingerprint,
    }


def notification(*alerts, truncated=0):
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "version": "4",
        "groupKey": '{}:{alertname="RTCDown"}',
        "truncatedAlerts": truncated,
        "status": status,
        "receiver": "claims",
        "groupLabels": {"alertname": "RTCDown"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def post(client, payload, *, name="prom-am", auth=f"Bearer {TOKEN}", raw=None, **headers):
    body = raw if raw is not None else json.dumps(payload).encode()
    if auth:
        headers["HTTP_AUTHORIZATION"] = auth
    url = reverse("incidents_api:alert-receiver", args=[name])
    return client.post(url, data=body, content_type="application/json", **headers)


def test_firing_alert_opens_a_mapped_incident(client, am_source):
    response = post(client, notification(alert()))
    assert response.status_code == 200, response.content
    assert response.json()["outcomes"] == {"created": 1}
    incident = Incident.objects.get()
    assert incident.source == "prom-am"
    assert incident.external_id == "aaaa000000000001@2026-10-05T12:00:00.123456Z"
    assert (incident.service.code, incident.impact, incident.cause) == ("rtc-video", "major_outage", "unknown")
    assert [r.code for r in incident.regions.all()] == ["cn-east"]
    assert incident.state == IncidentState.DETECTED
    assert incident.title == "RTC video down"
    assert incident.started_at.isoformat() == "2026-10-05T12:00:00.123456+00:00"
    assert incident.updates.get().origin == "alertmanager:prom-am"


@pytest.mark.parametrize(
    ("severity", "impact"),
    [("critical", "major_outage"), ("warning", "partial_outage"), ("info", "degraded_performance")],
)
def test_default_severity_mapping(client, am_source, severity, impact):
    assert post(client, notification(alert(severity=severity))).status_code == 200
    assert Incident.objects.get().impact == impact


def test_repeated_notification_changes_nothing(client, am_source):
    payload = notification(alert())
    post(client, payload)
    again = post(client, payload)
    assert again.json()["outcomes"] == {"unchanged": 1}
    assert Incident.objects.count() == 1
    assert IncidentUpdate.objects.count() == 1
    assert ReceivedAlert.objects.get().notifications == 2


def test_resolved_resolves_at_ends_at_and_refire_opens_a_new_incident(client, am_source):
    post(client, notification(alert()))
    resolved = post(client, notification(alert(status="resolved", ends="2026-10-05T12:40:00Z")))
    assert resolved.json()["outcomes"] == {"updated": 1}
    first = Incident.objects.get()
    assert first.state == IncidentState.RESOLVED
    assert first.resolved_at.isoformat() == "2026-10-05T12:40:00+00:00"
    # The same resolved notification again, and a late firing one: nothing moves.
    assert post(client, notification(alert(status="resolved", ends="2026-10-05T12:40:00Z"))).json()["outcomes"] == {
        "unchanged": 1
    }
    assert post(client, notification(alert())).json()["outcomes"] == {"stale": 1}
    first.refresh_from_db()
    assert first.state == IncidentState.RESOLVED

    refire = post(client, notification(alert(starts="2026-10-05T13:10:00Z")))
    assert refire.json()["outcomes"] == {"created": 1}
    second = Incident.objects.exclude(pk=first.pk).get()
    assert second.state == IncidentState.DETECTED
    assert second.started_at.isoformat() == "2026-10-05T13:10:00+00:00"


def test_first_notification_already_resolved_creates_a_resolved_incident(client, am_source):
    post(client, notification(alert(status="resolved", ends="2026-10-05T12:05:00Z")))
    incident = Incident.objects.get()
    assert incident.state == IncidentState.RESOLVED
    assert incident.resolved_at.isoformat() == "2026-10-05T12:05:00+00:00"


def test_staff_changes_survive_repeated_notifications(client, am_source, support_user):
    from incidents import services

    post(client, notification(alert()))
    incident = Incident.objects.get()
    services.transition_incident(incident=incident, action="acknowledge", actor=support_user, message="on it")
    post(client, notification(alert()))
    incident.refresh_from_db()
    assert incident.state == IncidentState.ACKNOWLEDGED
    post(client, notification(alert(status="resolved", ends="2026-10-05T12:30:00Z")))
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED
    assert incident.acknowledged_at is not None


def test_grouped_notification_updates_several_incidents_in_one_transaction(client, am_source):
    post(client, notification(alert(fingerprint="f1"), alert(fingerprint="f2", region="cn-north")))
    assert Incident.objects.filter(state=IncidentState.DETECTED).count() == 2
    # The next group notification: f1 resolved, f2 still firing, f3 new.
    group = notification(
        alert(fingerprint="f1", status="resolved", ends="2026-10-05T12:20:00Z"),
        alert(fingerprint="f2", region="cn-north"),
        alert(fingerprint="f3", region="cn-south", severity="warning"),
    )
    assert post(client, group).json()["outcomes"] == {"updated": 1, "unchanged": 1, "created": 1}
    states = dict(Incident.objects.values_list("external_id", "state"))
    assert sorted(states.values()) == ["detected", "detected", "resolved"]


def test_a_bad_alert_in_a_group_writes_nothing(client, am_source):
    bad = alert(fingerprint="f2", starts="yesterday")
    response = post(client, notification(alert(fingerprint="f1"), bad))
    assert response.status_code == 400
    assert "startsAt" in json.dumps(response.json()["errors"])
    assert not Incident.objects.exists() and not ReceivedAlert.objects.exists()


def test_unmapped_alerts_are_kept_with_the_reason_and_mapped_again_after_a_fix(client, am_source, support_user):
    response = post(client, notification(alert(service="cdn-edge-eu", severity="page")))
    assert response.status_code == 200
    assert response.json()["outcomes"] == {"unmapped": 1}
    assert not Incident.objects.exists()
    kept = ReceivedAlert.objects.get()
    assert "unknown service 'cdn-edge-eu'" in kept.problem
    assert "'severity' is 'page'" in kept.problem

    am_source.service_values = {"cdn-edge-eu": "cdn-live"}
    am_source.impact_values = {**am_source.impact_values, "page": "major_outage"}
    am_source.save()
    client.force_login(support_user)
    listing = client.get(reverse("incidents:alerts"))
    assert b"cdn-edge-eu" in listing.content
    client.post(reverse("incidents:alert_remap"), {"source": "prom-am"})
    kept.refresh_from_db()
    assert kept.problem == "" and kept.incident.service.code == "cdn-live"
    assert b"cdn-edge-eu" not in client.get(reverse("incidents:alerts")).content


def test_multiple_regions_and_cause_from_labels(client, am_source):
    post(client, notification(alert(region="cn-east, cn-north", cause="third_party")))
    incident = Incident.objects.get()
    assert sorted(r.code for r in incident.regions.all()) == ["cn-east", "cn-north"]
    assert incident.cause == "third_party"


def test_truncated_alerts_are_counted_for_staff(client, am_source):
    post(client, notification(alert(), truncated=3))
    am_source.refresh_from_db()
    assert am_source.truncated_alerts == 3


@pytest.mark.parametrize(
    "auth",
    ["", "Bearer wrong", f"Basic {base64.b64encode(f'x:{TOKEN}'.encode()).decode()}", f"Token {TOKEN}", "Bearer é"],
)
def test_bearer_receiver_refuses_bad_credentials(client, am_source, auth):
    response = post(client, notification(alert()), auth=auth)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert not ReceivedAlert.objects.exists()


def test_basic_auth_receiver(client, catalogue):
    AlertSource.objects.create(name="am-basic", auth="basic", username="am", token="pw-1")
    good = f"Basic {base64.b64encode(b'am:pw-1').decode()}"
    assert post(client, notification(alert()), name="am-basic", auth=good).status_code == 200
    bad = f"Basic {base64.b64encode(b'am:pw-2').decode()}"
    assert post(client, notification(alert()), name="am-basic", auth=bad).status_code == 401
    assert post(client, notification(alert()), name="am-basic", auth="Basic !!notbase64").status_code == 401


def test_unknown_or_inactive_receiver_is_refused(client, am_source):
    assert post(client, notification(alert()), name="nobody").status_code == 401
    am_source.is_active = False
    am_source.save()
    assert post(client, notification(alert())).status_code == 401


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1, 2]", b'{"alerts": "x"}', b'{"alerts": [{"status": "firing"}]}', b"\xff\xfe"],
)
def test_malformed_bodies_get_400(client, am_source, raw):
    assert post(client, None, raw=raw).status_code == 400


def test_ends_before_start_is_refused(client, am_source):
    response = post(client, notification(alert(status="resolved", ends="2026-10-05T11:00:00Z")))
    assert response.status_code == 400


# --- Grafana ---------------------------------------------------------------------------


@pytest.fixture
def grafana_source(catalogue):
    return AlertSource.objects.create(
        name="grafana",
        kind="grafana",
        auth="none",
        hmac_secret="g-secret",
        timestamp_header="X-Grafana-Alerting-Timestamp",
        impact_label="priority",
        impact_values={"P1": "major_outage", "P2": "partial_outage"},
    )


def grafana_payload():
    a = alert(priority="P2", severity=None)
    a.update({"values": {"B": 0.42}, "valueString": "[ var='B' value=0.42 ]", "silenceURL": "", "dashboardURL": ""})
    return {
        "receiver": "claims",
        "status": "firing",
        "orgId": 1,
        "alerts": [a],
        "groupLabels": {"alertname": "RTCDown"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://grafana:3000/",
        "version": "1",
        "groupKey": '{}/{}:{alertname="RTCDown"}',
        "truncatedAlerts": 0,
        "title": "[FIRING:1] RTCDown",
        "state": "alerting",
        "message": "...",
    }


def post_grafana(client, body, *, secret="g-secret", timestamp=None, signature=None):
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = grafana_signature(secret, body, ts) if signature is None else signature
    return client.post(
        reverse("incidents_api:alert-receiver", args=["grafana"]),
        data=body,
        content_type="application/json",
        HTTP_X_GRAFANA_ALERTING_SIGNATURE=sig,
        HTTP_X_GRAFANA_ALERTING_TIMESTAMP=ts,
    )


def test_grafana_signed_notification_opens_an_incident(client, grafana_source):
    body = json.dumps(grafana_payload()).encode()
    response = post_grafana(client, body)
    assert response.status_code == 200, response.content
    incident = Incident.objects.get()
    assert (incident.source, incident.impact) == ("grafana", "partial_outage")
    assert incident.updates.get().origin == "grafana:grafana"


def test_grafana_signature_is_hmac_sha256_of_timestamp_colon_body():
    # Independent of our helper: the value Grafana's HMAC round-tripper sends.
    import hashlib
    import hmac

    expected = hmac.new(b"k", b"1700000000:{}", hashlib.sha256).hexdigest()
    assert grafana_signature("k", b"{}", "1700000000") == expected
    assert grafana_signature("k", b"{}") == hmac.new(b"k", b"{}", hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "kwargs",
    [{"secret": "wrong"}, {"signature": ""}, {"timestamp": int(time.time()) - 600}, {"signature": "00" * 32}],
)
def test_grafana_bad_signature_or_old_timestamp_is_refused(client, grafana_source, kwargs):
    body = json.dumps(grafana_payload()).encode()
    assert post_grafana(client, body, **kwargs).status_code == 401
    assert not ReceivedAlert.objects.exists()


def test_grafana_tampered_body_is_refused(client, grafana_source):
    body = json.dumps(grafana_payload()).encode()
    ts = str(int(time.time()))
    sig = grafana_signature("g-secret", body, ts)
    assert post_grafana(client, body.replace(b"P2", b"P1"), timestamp=ts, signature=sig).status_code == 401


# --- Mapping API -----------------------------------------------------------------------


def test_mapping_api_for_staff(api_client, am_source, support_user, finance_user, make_user):
    url = reverse("incidents_api:alert-source-detail", args=[am_source.pk])
    api_client.force_authenticate(make_user("mia", "merchant"))
    assert api_client.get(url).status_code == 403
    api_client.force_authenticate(finance_user)
    data = api_client.get(url).json()
    assert "token" not in data and data["receiver_url"].endswith("/api/incidents/receivers/prom-am/")
    assert api_client.patch(url, {"region_label": "zone"}, format="json").status_code == 403

    api_client.force_authenticate(support_user)
    refused = api_client.patch(url, {"service_values": {"edge": "no-such-service"}}, format="json")
    assert refused.status_code == 400 and "service_values" in refused.json()
    refused = api_client.patch(url, {"auth": "none"}, format="json")
    assert refused.status_code == 400 and "auth" in refused.json()
    ok = api_client.patch(
        url, {"region_label": "zone", "region_values": {"sh": "cn-east"}, "token": "new-token"}, format="json"
    )
    assert ok.status_code == 200, ok.content
    am_source.refresh_from_db()
    assert (am_source.region_values, am_source.token) == ({"sh": "cn-east"}, "new-token")

    from core.models import SettingChange

    history = {
        c.field: (c.old_value, c.new_value, c.changed_by)
        for c in SettingChange.objects.filter(model="incidents.alertsource")
    }
    assert history == {
        "region_label": ("region", "zone", support_user),
        "region_values": ("{}", '{"sh": "cn-east"}', support_user),
        "token": ("(hidden)", "(hidden)", support_user),
    }


def test_unmapped_alerts_api_and_remap(api_client, client, am_source, support_user):
    post(client, notification(alert(region="sh")))
    api_client.force_authenticate(support_user)
    listed = api_client.get(reverse("incidents_api:received-alert-list"), {"unmapped": "true"}).json()["results"]
    assert [a["problem"] for a in listed] == ["unknown region(s) sh (label 'region')"]
    am_source.region_values = {"sh": "cn-east"}
    am_source.save()
    remapped = api_client.post(reverse("incidents_api:received-alert-remap"), {"source": "prom-am"}, format="json")
    assert remapped.json() == {"outcomes": {"created": 1}}
    assert api_client.get(reverse("incidents_api:received-alert-list"), {"unmapped": "true"}).json()["count"] == 0


def test_alert_page_for_staff_only_and_in_chinese(client, am_source, support_user, make_user):
    post(client, notification(alert(region="sh")))
    client.force_login(make_user("mia", "merchant"))
    assert client.get(reverse("incidents:alerts")).status_code == 403
    client.force_login(support_user)
    html = client.get(reverse("incidents:alerts"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "监控告警" in html and "重新映射" in html and "region=sh" in html


def test_a_group_larger_than_djangos_form_limit_is_accepted(client, am_source, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    alerts = [alert(fingerprint=f"f{i}", region=("cn-east", "cn-north", "cn-south")[i % 3]) for i in range(12)]
    response = post(client, notification(*alerts))
    assert response.status_code == 200, response.content
    assert Incident.objects.count() == 12


def test_an_oversized_body_gets_413(client, am_source, monkeypatch):
    from incidents import alert_api

    monkeypatch.setattr(alert_api, "MAX_NOTIFICATION_BYTES", 100)
    assert post(client, notification(alert())).status_code == 413
    assert not ReceivedAlert.objects.exists()
