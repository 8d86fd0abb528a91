"""Writes for alert notifications from Alertmanager and Grafana.

Each alert is stored as a ``ReceivedAlert`` keyed by (source, fingerprint, startsAt) and,
when the source's mapping places it, drives one incident through ``upsert_incident``.
Monitoring only opens and resolves: what staff changed on the incident (acknowledgement,
a corrected impact or cause) is carried over, so a repeated notification changes nothing.
"""

import base64
import binascii
import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import NotAuthenticated

from .alerting import AlertData, Notification, Unmapped, alert_title, external_id, place_alert
from .models import AlertSource, ReceivedAlert
from .records import IncidentRecord
from .services import IncidentConflict, upsert_incident


class ReceiverRejected(NotAuthenticated):
    """Unknown or inactive receiver, wrong credentials or a bad signature."""


@dataclass
class AlertOutcome:
    fingerprint: str
    starts_at: str
    outcome: str  # created | updated | unchanged | stale | unmapped | conflict
    incident: int | None = None
    detail: str = ""


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def authenticate_receiver(*, name: str, headers: Mapping[str, str], body: bytes, now=None) -> AlertSource:
    """The active source ``name`` if the request carries its credentials (Alertmanager's
    ``http_config`` bearer token or basic auth) and, for Grafana with an HMAC secret, its
    signature. Every secret is compared in constant time."""
    source = AlertSource.objects.filter(name=name, is_active=True).first()
    if source is None:
        raise ReceiverRejected("unknown alert receiver")
    authorization = headers.get("Authorization", "")
    scheme, _sep, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if source.auth == AlertSource.Auth.BEARER:
        if scheme.lower() != "bearer" or not _same(credentials, source.token):
            raise ReceiverRejected("bad or missing bearer token")
    elif source.auth == AlertSource.Auth.BASIC:
        try:
            user, _colon, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        good_user = _same(user, source.username)
        good_password = _same(password, source.token)
        if scheme.lower() != "basic" or not (good_user and good_password):
            raise ReceiverRejected("bad or missing basic auth credentials")
    if source.kind == AlertSource.Kind.GRAFANA and source.hmac_secret:
        _verify_grafana_signature(source, headers, body, now=now)
    return source


def grafana_signature(secret: str, body: bytes, timestamp: str = "") -> str:
    """Grafana's HMAC: hex SHA-256 over ``"<timestamp>:" + body`` (just the body without a timestamp header)."""
    message = (timestamp.encode() + b":" if timestamp else b"") + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _verify_grafana_signature(source: AlertSource, headers, body: bytes, *, now=None) -> None:
    signature = headers.get(source.hmac_header, "").strip()
    if not signature:
        raise ReceiverRejected(f"missing {source.hmac_header} header")
    timestamp = ""
    if source.timestamp_header:
        timestamp = headers.get(source.timestamp_header, "").strip()
        if not timestamp:
            raise ReceiverRejected(f"missing {source.timestamp_header} header")
    if not _same(signature.lower(), grafana_signature(source.hmac_secret, body, timestamp)):
        raise ReceiverRejected("bad signature")
    if timestamp:
        try:
            sent = int(timestamp)
        except ValueError as exc:
            raise ReceiverRejected("timestamp must be Unix seconds") from exc
        now = now or timezone.now()
        if abs(now.timestamp() - sent) > settings.INCIDENT_WEBHOOK_TOLERANCE_SECONDS:
            raise ReceiverRejected("timestamp too far from now")


def _origin(source: AlertSource) -> str:
    return f"{source.kind}:{source.name}"


@transaction.atomic
def receive_notification(*, source: AlertSource, notification: Notification, now=None) -> list[AlertOutcome]:
    """Apply one webhook notification: every alert of the group, all in one transaction.

    Alerts are taken in key order, so two deliveries of overlapping groups lock their rows in
    the same order and wait for each other instead of deadlocking."""
    now = now or timezone.now()
    alerts = sorted(notification.alerts, key=lambda a: (a.fingerprint, a.starts_at))
    outcomes = [_receive_alert(source, alert, group_key=notification.group_key, now=now) for alert in alerts]
    # The source row last: the shared lock every delivery of this source takes.
    AlertSource.objects.filter(pk=source.pk).update(
        last_received_at=now, truncated_alerts=F("truncated_alerts") + notification.truncated_alerts
    )
    return outcomes


def _receive_alert(source: AlertSource, alert: AlertData, *, group_key: str, now) -> AlertOutcome:
    key = {"source": source, "fingerprint": alert.fingerprint, "starts_at": alert.starts_at}
    resolved = alert.status == ReceivedAlert.Status.RESOLVED
    ends_at = (alert.ends_at or max(now, alert.starts_at)) if resolved else None
    row = ReceivedAlert.objects.select_for_update().filter(**key).first()
    if row is None:
        try:
            with transaction.atomic():
                row = ReceivedAlert.objects.create(
                    **key,
                    status=alert.status,
                    ends_at=ends_at,
                    title=alert_title(alert.labels, alert.annotations),
                    labels=alert.labels,
                    annotations=alert.annotations,
                    group_key=group_key,
                )
        except IntegrityError:
            # A concurrent delivery stored it first: ours is a repeat.
            row = ReceivedAlert.objects.select_for_update().get(**key)
        else:
            return _apply(row, origin=_origin(source), actor=None)
    if not _repeat(row, alert, ends_at=ends_at, group_key=group_key):
        return AlertOutcome(
            row.fingerprint, row.starts_at.isoformat(), "stale", row.incident_id, "already resolved; a late firing"
        )
    return _apply(row, origin=_origin(source), actor=None)


def _repeat(row: ReceivedAlert, alert: AlertData, *, ends_at, group_key: str) -> bool:
    """Record a repeated notification of a known alert; ``False`` when it is a firing that
    arrived after the resolution (out of order) and so changes nothing."""
    row.notifications += 1
    fields = ["notifications", "last_received_at"]
    if row.status == ReceivedAlert.Status.RESOLVED and alert.status == ReceivedAlert.Status.FIRING:
        row.save(update_fields=fields)
        return False
    if alert.status == ReceivedAlert.Status.RESOLVED and row.status == ReceivedAlert.Status.FIRING:
        row.status, row.ends_at = alert.status, ends_at
        fields += ["status", "ends_at"]
    if alert.annotations != row.annotations:
        row.annotations = alert.annotations
        fields.append("annotations")
    if group_key and group_key != row.group_key:
        row.group_key = group_key
        fields.append("group_key")
    row.save(update_fields=fields)
    return True


def _apply(row: ReceivedAlert, *, origin: str, actor) -> AlertOutcome:
    """Open, or resolve, the alert's incident. An alert the mapping cannot place stays
    unmapped (with the reason) until staff fix the mapping and map it again."""
    outcome = AlertOutcome(row.fingerprint, row.starts_at.isoformat(), "unchanged", row.incident_id)
    try:
        with transaction.atomic():
            record = _record_for(row)
            if record is None:
                return outcome
            result = upsert_incident(record=record, origin=origin, actor=actor)
    except Unmapped as exc:
        row.problem = str(exc)[:500]
        row.save(update_fields=["problem", "last_received_at"])
        outcome.outcome, outcome.detail = "unmapped", row.problem
        return outcome
    except IncidentConflict as exc:
        outcome.outcome, outcome.detail = "conflict", str(exc)
        return outcome
    if row.incident_id != result.incident.pk or row.problem:
        row.incident, row.problem = result.incident, ""
        row.save(update_fields=["incident", "problem", "last_received_at"])
    outcome.outcome, outcome.incident = result.outcome, result.incident.pk
    return outcome


def _record_for(row: ReceivedAlert) -> IncidentRecord | None:
    """The incident record the alert stands for, or ``None`` when there is nothing to do."""
    message = (row.annotations.get("description") or "")[:2000]
    incident = row.incident
    if incident is None:
        placement = place_alert(row.source, row.labels)
        return IncidentRecord(
            source=row.source.name,
            external_id=external_id(row.fingerprint, row.starts_at),
            title=row.title,
            service=placement.service,
            regions=placement.regions,
            impact=placement.impact,
            cause=placement.cause,
            started_at=row.starts_at,
            detected_at=row.starts_at,
            resolved_at=row.ends_at,
            message=message,
        )
    if row.ends_at is None or not incident.is_open:
        return None
    # Only the resolution comes from monitoring; everything else is the incident as it stands.
    return IncidentRecord(
        source=incident.source,
        external_id=incident.external_id,
        title=incident.title,
        service=incident.service,
        regions=tuple(incident.regions.all()),
        impact=incident.impact,
        cause=incident.cause,
        started_at=incident.started_at,
        detected_at=incident.detected_at,
        acknowledged_at=incident.acknowledged_at,
        mitigated_at=incident.mitigated_at,
        resolved_at=max(row.ends_at, incident.started_at),
        message=message,
    )


def remap_unmapped_alerts(*, actor, source: AlertSource | None = None) -> Counter:
    """Apply the current mapping to the alerts it could not place before (staff, after
    fixing a mapping). Returns how many ended in each outcome."""
    counts: Counter = Counter()
    with transaction.atomic():
        rows = ReceivedAlert.objects.select_for_update().select_related("source").filter(incident__isnull=True)
        if source is not None:
            rows = rows.filter(source=source)
        for row in rows.order_by("starts_at", "id"):
            counts[_apply(row, origin=_origin(row.source), actor=actor).outcome] += 1
    return counts
