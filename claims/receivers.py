"""Recompute claims when an incident resolves or what its loss depends on changes (after the commit)."""

from django.db import transaction
from django.dispatch import receiver

from incidents.signals import incident_changed
from losses.engine import INCIDENT_INPUTS


@receiver(incident_changed, dispatch_uid="claims.recompute_on_incident_change")
def recompute_on_incident_change(sender, incident, fields=(), **kwargs):
    if incident.state not in ("resolved", "voided"):
        return
    if fields and not (set(fields) & INCIDENT_INPUTS):
        return  # nothing the loss depends on changed
    from claims.tasks import recompute_incident_claims

    incident_id = incident.pk
    transaction.on_commit(lambda: recompute_incident_claims.delay(incident_id))
