"""Recompute claims when an incident resolves or its times change (after the change commits)."""

from django.db import transaction
from django.dispatch import receiver

from incidents.signals import incident_changed

TIME_FIELDS = {
    "created",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "state",
    "cause",
    "regions",
    "service",
    "impact",
}


@receiver(incident_changed, dispatch_uid="claims.recompute_on_incident_change")
def recompute_on_incident_change(sender, incident, fields=(), **kwargs):
    if incident.state not in ("resolved", "voided"):
        return
    if fields and not (set(fields) & TIME_FIELDS):
        return
    from claims.tasks import recompute_incident_claims

    incident_id = incident.pk
    transaction.on_commit(lambda: recompute_incident_claims.delay(incident_id))
