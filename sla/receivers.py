"""Recompute SLA evaluations when an incident changes (after the transaction commits)."""

from django.db import transaction
from django.dispatch import receiver

from incidents.signals import incident_changed


@receiver(incident_changed, dispatch_uid="sla_recompute_on_incident_changed")
def on_incident_changed(sender, incident, fields=(), previous=None, **kwargs):
    from .services import pairs_for_span
    from .tasks import recompute_for_incident

    incident_id = incident.pk
    # The months and contracts it was in before the change (another service, other times):
    # they must drop it, and the task only sees the incident as it is now.
    also = []
    if previous:
        pairs = pairs_for_span(previous["service_id"], previous["started_at"], previous["resolved_at"])
        also = [[code, f"{period:%Y-%m}"] for code, period in pairs]
    transaction.on_commit(lambda: recompute_for_incident.delay(incident_id, also))
