"""Writes to the incident registry. Every channel (webhook, CSV, API, console) goes
through ``upsert_incident``; every state change goes through ``transition_incident``,
so each one lands in the ``IncidentUpdate`` timeline and in django-fsm-log.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django_fsm import TransitionNotAllowed

from accounts import roles
from core.csv import CsvReader, CsvRejected, CsvSource
from core.errors import NotAuthenticated, RowError, StateConflict

from .models import Incident, IncidentState, IncidentUpdate, MaintenanceWindow, WebhookSource, state_label
from .records import (
    INCIDENT_CSV_COLUMNS,
    MAINTENANCE_CSV_COLUMNS,
    IncidentRecord,
    IncidentRecordSerializer,
    MaintenanceRecord,
    MaintenanceRecordSerializer,
    flatten_errors,
)
from .signals import incident_changed

# Who changes an incident: a signed-in person, or None for an unattended channel (webhook, CSV, monitoring).
Actor = AbstractBaseUser | AnonymousUser | None
# The order in which an open incident moves; voided is off to the side.
_PROGRESS: list[str] = [
    IncidentState.DETECTED,
    IncidentState.ACKNOWLEDGED,
    IncidentState.MITIGATED,
    IncidentState.RESOLVED,
]
_EDITABLE = ["title", "service", "impact", "cause", "started_at", "detected_at"]
_STATE_TIMES = ["acknowledged_at", "mitigated_at", "resolved_at"]
_ACTION_LABELS = {
    "acknowledge": pgettext_lazy("incident action", "Acknowledge"),
    "mitigate": pgettext_lazy("incident action", "Mitigate"),
    "resolve": pgettext_lazy("incident action", "Resolve"),
    "void": pgettext_lazy("incident action", "Void"),
}


class IncidentConflict(StateConflict):
    """The update cannot be applied to the incident's current state."""


@dataclass
class UpsertResult:
    incident: Incident
    outcome: str  # created | updated | unchanged | stale
    changed: list[str] = field(default_factory=list)


def _check_actor(actor) -> None:
    """A person changing an incident must be support staff. System channels (webhook, CSV
    import, demo data) act without a person and pass ``actor=None``."""
    if actor is not None and not roles.is_support(actor):
        raise PermissionDenied(_("Only support staff may change incidents."))


def _log(incident, kind, *, origin, actor, message="", from_state="", to_state="", changes=None):
    return IncidentUpdate.objects.create(
        incident=incident,
        kind=kind,
        origin=origin,
        actor=actor,
        message=message,
        from_state=from_state,
        to_state=to_state,
        changes=changes or {},
    )


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "code"):
        return value.code
    return value


def _apply_transition(incident, action: str, at, *, origin, actor, message=""):
    """Run one FSM transition and record it; the caller saves inside its transaction."""
    method = getattr(incident, action)
    from_state = incident.state
    try:
        method(at, by=actor, description=message or f"{action} via {origin}")
    except TransitionNotAllowed as exc:
        raise IncidentConflict(
            _("“%(action)s” is not possible: the incident is %(state)s.")
            % {"action": _ACTION_LABELS[action], "state": state_label(from_state)}
        ) from exc
    incident.save()
    _log(
        incident,
        IncidentUpdate.Kind.TRANSITION,
        origin=origin,
        actor=actor,
        message=message,
        from_state=from_state,
        to_state=incident.state,
        changes={f"{incident.state}_at": _jsonable(at)},
    )


def _steps_towards(incident, record: IncidentRecord) -> list[tuple[str, datetime]]:
    """The transitions that bring ``incident`` to the record's state, in order."""
    target = record.target_state
    if target == incident.state:
        return []
    if incident.state == IncidentState.VOIDED:
        raise IncidentConflict(_("The incident was voided as a false alarm; it can no longer change."))
    if target == IncidentState.VOIDED:
        return [("void", record.source_updated_at or timezone.now())]
    if _PROGRESS.index(target) < _PROGRESS.index(incident.state):
        raise IncidentConflict(
            _("An incident that is %(state)s cannot move back to %(target)s.")
            % {"state": state_label(incident.state), "target": state_label(target)}
        )
    steps = []
    current = _PROGRESS.index(incident.state)
    for state, action, at in [
        (IncidentState.ACKNOWLEDGED, "acknowledge", record.acknowledged_at),
        (IncidentState.MITIGATED, "mitigate", record.mitigated_at),
        (IncidentState.RESOLVED, "resolve", record.resolved_at),
    ]:
        if current < _PROGRESS.index(state) <= _PROGRESS.index(target) and at is not None:
            steps.append((action, at))
    return steps


@transaction.atomic
def upsert_incident(*, record: IncidentRecord, origin: str, actor: Actor = None) -> UpsertResult:
    """Create or update the incident ``(record.source, record.external_id)``.

    Idempotent: the same record twice changes nothing the second time. When the record
    carries the sender's ``updated_at``, an update older than the last one applied is
    ignored (``stale``) so that out-of-order deliveries never roll an incident back.
    An ``actor`` (a person) must be support staff.
    """
    _check_actor(actor)
    incident = Incident.objects.select_for_update().filter(source=record.source, external_id=record.external_id).first()
    if incident is None:
        try:
            with transaction.atomic():
                return _create(record, origin=origin, actor=actor)
        except IntegrityError:
            # A concurrent delivery created it first: apply ours as an update.
            incident = Incident.objects.select_for_update().get(source=record.source, external_id=record.external_id)

    if record.source_updated_at and incident.source_updated_at:
        if record.source_updated_at < incident.source_updated_at:
            return UpsertResult(incident, "stale")

    previous = _span(incident)
    changes = {}
    for name in _EDITABLE:
        new = getattr(record, name)
        if name == "service" and new.pk == incident.service_id:
            continue  # compared by id: reading the old service is a query, needed only when it changed
        old = getattr(incident, name)
        if new != old:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(incident, name, new)
    # Times of states already reached may be corrected in place.
    for name in _STATE_TIMES:
        old, new = getattr(incident, name), getattr(record, name)
        if old is not None and new is not None and old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(incident, name, new)
    steps = _steps_towards(incident, record)
    old_regions = {r.code for r in incident.regions.all()}
    new_regions = {r.code for r in record.regions}
    if old_regions != new_regions:
        changes["regions"] = [sorted(old_regions), sorted(new_regions)]
    if record.source_updated_at and record.source_updated_at != incident.source_updated_at:
        incident.source_updated_at = record.source_updated_at

    if not changes and not steps:
        if incident.source_updated_at != record.source_updated_at and record.source_updated_at:
            incident.save(update_fields=["source_updated_at", "updated_at"])
        return UpsertResult(incident, "unchanged")

    if changes:
        incident.save()
        if "regions" in changes:
            incident.regions.set(record.regions)
        _log(incident, IncidentUpdate.Kind.EDITED, origin=origin, actor=actor, message=record.message, changes=changes)
    for action, at in steps:
        _apply_transition(incident, action, at, origin=origin, actor=actor, message=record.message)
    changed = sorted(changes) + ["state"] * bool(steps)
    _notify(incident, changed, previous=previous)
    return UpsertResult(incident, "updated", changed)


def _create(record: IncidentRecord, *, origin, actor) -> UpsertResult:
    incident = Incident.objects.create(
        source=record.source,
        external_id=record.external_id,
        title=record.title,
        service=record.service,
        impact=record.impact,
        cause=record.cause,
        started_at=record.started_at,
        detected_at=record.detected_at,
        source_updated_at=record.source_updated_at,
    )
    incident.regions.set(record.regions)
    _log(
        incident,
        IncidentUpdate.Kind.CREATED,
        origin=origin,
        actor=actor,
        message=record.message or record.title,
        to_state=incident.state,
    )
    for action, at in _steps_towards(incident, record):
        _apply_transition(incident, action, at, origin=origin, actor=actor, message=record.message)
    _notify(incident, ["created"])
    return UpsertResult(incident, "created", ["created"])


def _span(incident) -> dict:
    """What places an incident in time and service, for ``incident_changed``'s ``previous``."""
    return {"service_id": incident.service_id, "started_at": incident.started_at, "resolved_at": incident.resolved_at}


def _notify(incident, fields, previous=None):
    incident_changed.send(sender=Incident, incident=incident, fields=list(fields), previous=previous)


@transaction.atomic
def transition_incident(
    *, incident: Incident, action: str, actor: Actor, message: str, at: datetime | None = None
) -> Incident:
    """Move an incident one step (acknowledge, mitigate, resolve, void) from the console or API.

    Only support staff may; ``PermissionDenied`` otherwise."""
    _check_actor(actor)
    if action not in {"acknowledge", "mitigate", "resolve", "void"}:
        raise IncidentConflict(_("Unknown action '%(action)s'.") % {"action": action})
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    at = at or timezone.now()
    if at < incident.started_at:
        raise IncidentConflict(_("The time of a state change cannot be before the incident started."))
    previous = _span(incident)
    _apply_transition(incident, action, at, origin="console", actor=actor, message=message)
    _notify(incident, ["state"], previous=previous)
    return incident


@transaction.atomic
def add_note(*, incident: Incident, actor: Actor, message: str) -> IncidentUpdate:
    _check_actor(actor)
    return _log(incident, IncidentUpdate.Kind.NOTE, origin="console", actor=actor, message=message)


@transaction.atomic
def upsert_maintenance_window(*, record: MaintenanceRecord) -> tuple[MaintenanceWindow, str]:
    window, created = MaintenanceWindow.objects.select_for_update().get_or_create(
        service=record.service,
        starts_at=record.starts_at,
        ends_at=record.ends_at,
        defaults={"announced_at": record.announced_at, "description": record.description},
    )
    regions = {r.code for r in record.regions}
    if created:
        window.regions.set(record.regions)
        return window, "created"
    outcome = "unchanged"
    if window.announced_at != record.announced_at or (record.description and window.description != record.description):
        window.announced_at = record.announced_at
        window.description = record.description or window.description
        window.save()
        outcome = "updated"
    if {r.code for r in window.regions.all()} != regions:
        window.regions.set(record.regions)
        outcome = "updated"
    return window, outcome


# --- Webhooks -----------------------------------------------------------------------


class WebhookRejected(NotAuthenticated):
    """The request is not from a known source, or is not signed, or is too old."""


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 over ``b"<timestamp>." + raw body``, keyed by the source secret."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_webhook(
    *, source_name: str, timestamp: str, signature: str, body: bytes, now: datetime | None = None
) -> WebhookSource:
    if not source_name or not timestamp or not signature:
        raise WebhookRejected("missing source, timestamp or signature header")
    source = WebhookSource.objects.filter(name=source_name, is_active=True).first()
    if source is None:
        raise WebhookRejected("unknown webhook source")
    expected = webhook_signature(secret=source.secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, signature.strip()):
        raise WebhookRejected("bad signature")
    # ASCII digits only, at most 12 of them: int() would also take "１０", "+1_0" or 400 digits,
    # and the latter overflows the float comparison below.
    if not re.fullmatch(r"[0-9]{1,12}", timestamp.strip()):
        raise WebhookRejected("timestamp must be Unix seconds")
    sent = int(timestamp)
    now = now or timezone.now()
    if abs(now.timestamp() - sent) > settings.INCIDENT_WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRejected("timestamp too far from now")
    return source


# --- CSV imports ---------------------------------------------------------------------


@dataclass
class ImportReport:
    rows: int = 0
    outcomes: dict = field(default_factory=dict)

    def count(self, outcome):
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _validate_rows(stream, columns, serializer_class) -> list[tuple[int, Any]]:
    """Every row of the file validated, or :class:`CsvRejected` naming every bad line and column."""
    records, errors = [], []
    with CsvReader(stream, columns=columns) as reader:
        for line, values in reader.rows():
            serializer = serializer_class(data={k: v.strip() for k, v in zip(columns, values, strict=True)})
            if serializer.is_valid():
                records.append((line, serializer.to_record()))
            else:
                errors += [RowError(line, col, msg) for col, msg in flatten_errors(serializer.errors)]
    if errors:
        raise CsvRejected(errors)
    return records


def import_incidents_csv(*, stream: CsvSource, actor: Actor = None) -> ImportReport:
    """Import incidents from CSV: every row is validated first; any error and nothing is written."""
    records = _validate_rows(stream, INCIDENT_CSV_COLUMNS, IncidentRecordSerializer)
    report = ImportReport(rows=len(records))
    with transaction.atomic():
        for line, record in records:
            try:
                result = upsert_incident(record=record, origin="csv", actor=actor)
            except IncidentConflict as exc:
                raise CsvRejected.at(line, "resolved_at", str(exc)) from exc
            report.count(result.outcome)
    return report


def import_maintenance_csv(*, stream: CsvSource) -> ImportReport:
    records = _validate_rows(stream, MAINTENANCE_CSV_COLUMNS, MaintenanceRecordSerializer)
    report = ImportReport(rows=len(records))
    with transaction.atomic():
        for _line, record in records:
            report.count(upsert_maintenance_window(record=record)[1])
    return report
