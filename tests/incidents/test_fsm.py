from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import Incident, IncidentState
from incidents.records import IncidentRecordSerializer
from incidents.services import IncidentConflict, transition_incident, upsert_incident

from .conftest import record_data


@pytest.fixture
def incident(catalogue):
    serializer = IncidentRecordSerializer(data=record_data())
    serializer.is_valid(raise_exception=True)
    return upsert_incident(record=serializer.to_record(), origin="test").incident


def test_full_lifecycle_records_who_when_and_why(incident, support_user):
    t = incident.started_at
    for action, minutes in [("acknowledge", 5), ("mitigate", 20), ("resolve", 40)]:
        incident = transition_incident(
            incident=incident,
            action=action,
            actor=support_user,
            message=f"{action}d",
            at=t + timedelta(minutes=minutes),
        )
    assert incident.state == IncidentState.RESOLVED
    assert incident.resolved_at == t + timedelta(minutes=40)
    steps = list(incident.updates.filter(kind="transition").values_list("to_state", "actor__username", "message"))
    assert steps == [
        ("acknowledged", "sam-support", "acknowledged"),
        ("mitigated", "sam-support", "mitigated"),
        ("resolved", "sam-support", "resolved"),
    ]
    froms = list(incident.updates.filter(kind="transition").values_list("from_state", flat=True))
    assert froms == ["detected", "acknowledged", "mitigated"]


@pytest.mark.parametrize("action", ["acknowledge", "mitigate", "resolve", "void"])
def test_no_transition_out_of_resolved(incident, support_user, action):
    incident = transition_incident(
        incident=incident,
        action="resolve",
        actor=support_user,
        message="ok",
        at=incident.started_at + timedelta(hours=1),
    )
    with pytest.raises(IncidentConflict):
        transition_incident(incident=incident, action=action, actor=support_user, message="again")


def test_voided_is_terminal(incident, support_user):
    incident = transition_incident(incident=incident, action="void", actor=support_user, message="false alarm")
    with pytest.raises(IncidentConflict):
        transition_incident(incident=incident, action="resolve", actor=support_user, message="x")


def test_state_field_is_protected(incident):
    with pytest.raises(AttributeError):
        incident.state = IncidentState.RESOLVED


def test_transition_time_before_start_is_refused(incident, support_user):
    with pytest.raises(IncidentConflict):
        transition_incident(
            incident=incident,
            action="acknowledge",
            actor=support_user,
            message="x",
            at=incident.started_at - timedelta(minutes=1),
        )


def test_database_enforces_resolved_at_only_when_resolved(catalogue):
    service = catalogue["services"]["rtc-video"]
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(
            source="x",
            external_id="1",
            title="t",
            service=service,
            impact="major_outage",
            started_at=now,
            detected_at=now,
            resolved_at=now,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(
            source="x",
            external_id="2",
            title="t",
            service=service,
            impact="major_outage",
            started_at=now,
            detected_at=now - timedelta(minutes=1),
        )


@pytest.mark.parametrize("role", ["finance", "merchant", None])
def test_services_refuse_a_person_who_is_not_support(incident, make_user, role):
    """The service checks the role itself, not only the view/API in front of it."""
    from django.core.exceptions import PermissionDenied

    from incidents.services import add_note

    user = make_user("not-support", *([role] if role else []))
    with pytest.raises(PermissionDenied):
        transition_incident(incident=incident, action="acknowledge", actor=user, message="x")
    serializer = IncidentRecordSerializer(data=record_data(title="renamed"))
    serializer.is_valid(raise_exception=True)
    with pytest.raises(PermissionDenied):
        upsert_incident(record=serializer.to_record(), origin="api", actor=user)
    with pytest.raises(PermissionDenied):
        add_note(incident=incident, actor=user, message="x")
    incident.refresh_from_db()
    assert incident.state == IncidentState.DETECTED and incident.title != "renamed"
    assert list(incident.updates.values_list("kind", flat=True)) == ["created"]


def test_system_channels_act_without_a_person(incident):
    """Webhook, CSV and demo paths pass no actor; they are not refused."""
    incident = transition_incident(incident=incident, action="acknowledge", actor=None, message="monitoring")
    assert incident.state == IncidentState.ACKNOWLEDGED
    assert incident.updates.get(kind="transition").actor is None
