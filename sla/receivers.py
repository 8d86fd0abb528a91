"""Recompute SLA evaluations when an incident changes (after the transaction commits, debounced)."""

from django.db import transaction
from django.dispatch import receiver

from incidents.signals import incident_changed
from telemetry.signals import windows_ingested

IRRELEVANT = frozenset({"title"})  # an edit of only these cannot change an evaluation


@receiver(incident_changed, dispatch_uid="sla_recompute_on_incident_changed")
def on_incident_changed(sender, incident, fields=(), previous=None, **kwargs):
    """One task once the change commits; it finds the contract-months and debounces their
    recompute in the worker, so a monitoring webhook pays one enqueue instead of three queries
    and a Redis round trip."""
    from .tasks import schedule_for_incident

    if fields and set(fields) <= IRRELEVANT:
        return
    incident_id = incident.pk
    # Where it was before the change (another service, other times): those months must drop it,
    # and the task only sees the incident as it is now.
    span = None
    if previous:
        span = [
            previous["service_id"],
            previous["started_at"].isoformat() if previous["started_at"] else None,
            previous["resolved_at"].isoformat() if previous["resolved_at"] else None,
        ]
    transaction.on_commit(lambda: schedule_for_incident.delay(incident_id, span))


@receiver(windows_ingested, dispatch_uid="sla_recompute_on_windows_ingested")
def on_windows_ingested(sender, spans, **kwargs):
    """Telemetry changed: recompute the months of contracts that read it (error-rate methods,
    quality targets) and cover the services written."""
    from .models import SLAContract
    from .services import pairs_for_span, recompute

    readers = SLAContract.objects.exclude(availability_method="incidents", quality_targets=[])
    pairs = set()
    for service_id, (start, end) in spans.items():
        codes = set(readers.filter(services=service_id).values_list("code", flat=True))
        pairs.update(
            p for p in pairs_for_span(service_id=service_id, started_at=start, resolved_at=end) if p[0] in codes
        )
    if pairs:
        recompute(pairs=sorted(pairs))
        from .budget import check_budgets

        check_budgets(codes={code for code, _period in pairs})
