"""Incidents detected from telemetry: opened by a run, never duplicated, extended and resolved later."""

from datetime import timedelta

import pytest

from incidents.models import Cause, Impact, Incident, IncidentState
from incidents.services import transition_incident
from telemetry.detection import incident_windows
from telemetry.models import DetectedRun
from telemetry.services import ingest_windows

from .conftest import row, sh

START = sh(2026, 11, 10, 20, 0)


def batch(first, statuses, region="cn-east", service="rtc-video"):
    """One 5-minute row per status: 'd' down (10 % failed), 'u' up, 'M' major (60 %)."""
    failed = {"d": 100, "u": 0, "M": 600, "p": 10}
    return [
        row((first + timedelta(minutes=5 * i)).isoformat(), service=service, region=region, failed=failed[s])
        for i, s in enumerate(statuses)
    ]


@pytest.fixture
def ingest(catalogue, django_capture_on_commit_callbacks):
    """Ingest and run what follows the commit (detection, through the eager Celery task)."""

    def _ingest(rows):
        with django_capture_on_commit_callbacks(execute=True):
            return ingest_windows(rows=rows, source="test")

    return _ingest


def test_a_run_opens_one_incident_and_reimport_never_duplicates(ingest):
    ingest(batch(START, "uddddu"))
    incident = Incident.objects.get(source="telemetry")
    assert incident.cause == Cause.UNKNOWN and incident.impact == Impact.PARTIAL_OUTAGE
    assert incident.started_at == START + timedelta(minutes=5)
    assert incident.detected_at == START + timedelta(minutes=15)  # when the run reached 10 minutes
    assert incident.state == IncidentState.RESOLVED and incident.resolved_at == START + timedelta(minutes=25)
    assert [r.code for r in incident.regions.all()] == ["cn-east"]
    assert incident.telemetry_run.down_windows == 4
    assert incident_windows(incident).count() == 4
    ingest(batch(START, "uddddu"))
    ingest(batch(START, "uddddu"))
    assert Incident.objects.filter(source="telemetry").count() == 1
    assert incident.updates.count() == 2  # created, resolved: nothing since


def test_a_short_run_opens_nothing(ingest):
    ingest(batch(START, "udud"))
    assert not Incident.objects.filter(source="telemetry").exists()


def test_an_ongoing_run_stays_open_is_extended_then_resolved(ingest):
    ingest(batch(START, "udd"))
    incident = Incident.objects.get(source="telemetry")
    assert incident.state == IncidentState.DETECTED and incident.resolved_at is None
    ingest(batch(START + timedelta(minutes=15), "ddM"))
    incident.refresh_from_db()
    assert incident.state == IncidentState.DETECTED and incident.impact == Impact.MAJOR_OUTAGE
    assert incident.telemetry_run.ends_at == START + timedelta(minutes=30)
    ingest(batch(START + timedelta(minutes=30), "uu"))
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED and incident.resolved_at == START + timedelta(minutes=30)
    assert Incident.objects.filter(source="telemetry").count() == 1


@pytest.mark.parametrize(
    "status, impact", [("M", "major_outage"), ("d", "partial_outage"), ("p", "degraded_performance")]
)
def test_impact_from_the_peak_error_rate(ingest, status, impact):
    ingest(batch(START, "u" + status * 3 + "u"))
    assert Incident.objects.get(source="telemetry").impact == impact


def test_staff_attribution_and_acknowledgement_survive_redetection(ingest, support_user):
    ingest(batch(START, "uddd"))
    incident = Incident.objects.get(source="telemetry")
    Incident.objects.filter(pk=incident.pk).update(cause=Cause.PROVIDER)
    transition_incident(incident=incident, action="acknowledge", actor=support_user, message="provider confirmed")
    ingest(batch(START + timedelta(minutes=20), "du"))
    incident.refresh_from_db()
    assert incident.cause == Cause.PROVIDER and incident.acknowledged_at is not None
    assert incident.state == IncidentState.RESOLVED and incident.resolved_at == START + timedelta(minutes=25)


def test_a_voided_detection_is_left_alone(ingest, support_user):
    ingest(batch(START, "uddd"))
    incident = Incident.objects.get(source="telemetry")
    transition_incident(incident=incident, action="void", actor=support_user, message="probe fault")
    ingest(batch(START + timedelta(minutes=20), "ddu"))
    incident.refresh_from_db()
    assert incident.state == IncidentState.VOIDED
    assert Incident.objects.filter(source="telemetry").count() == 1
    assert DetectedRun.objects.count() == 1


def test_regions_are_those_down_themselves(ingest):
    ingest(batch(START, "udddu") + batch(START, "uuuuu", region="cn-south"))
    incident = Incident.objects.get(source="telemetry")
    assert [r.code for r in incident.regions.all()] == ["cn-east"]


def test_the_incident_page_links_to_its_windows(ingest, client, support_user):
    from django.urls import reverse

    ingest(batch(START, "uddddu") + batch(START, "uuuuuu", region="cn-south"))
    incident = Incident.objects.get(source="telemetry")
    client.force_login(support_user)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "4 down windows, peak error rate 5.0000 %" in page  # 100 of 2,000 requests
    link = page.split('id="telemetry-run"><a href="')[1].split('"')[0].replace("&amp;", "&")
    windows = client.get(link)
    assert windows.status_code == 200
    assert windows.context["page"].paginator.count == 8  # 4 windows × 2 regions of the run's time
