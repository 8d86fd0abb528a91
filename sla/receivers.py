"""Recompute SLA evaluations when an incident changes (after the transaction commits)."""

from django.db import transaction
from django.dispatch import receiver

from incidents.signals import incident_changed


@receiver(incident_changed, dispatch_uid="sla_recompute_on_incident_changed")
def on_incident_changed(sender, incident, fields=(), **kwargs):
    from .tasks import recompute_for_incident

    incident_id = incident.pk
    transaction.on_commit(lambda: recompute_for_incident.delay(incident_id))
