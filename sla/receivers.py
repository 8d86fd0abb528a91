"""Recompute SLA evaluations when an incident changes (after the transaction commits, debounced)."""

from django.db import transaction
from django.dispatch import receiver

from incidents.signals import incident_changed
from telemetry.signals import windows_ingested

IRRELEVANT = frozenset({"title"})  # an edit of only these cannot change an evaluation


@receiver(incident_changed, dispatch_uid="sla_recompute_on_incident_changed")
def on_incident_changed(sender, incident, fields=(), previous=None, **kwargs):
    from incidents.models import Incident

    from .services import pairs_for_incident, pairs_for_span
    from .tasks import schedule_recompute

    if fields and set(fields) <= IRRELEVANT:
        return
    incident_id = incident.pk
    # The months and contracts it was in before the change (another service, other times):
    # they must drop it, and the task only sees the incident as it is now.
    also = []
    if previous:
        pairs = pairs_for_span(
            service_id=previous["service_id"], started_at=previous["started_at"], resolved_at=previous["resolved_at"]
        )
        also = [(code, f"{period:%Y-%m}") for code, period in pairs]

    def schedule():
        current = Incident.objects.filter(pk=incident_id).first()
        now = [(code, f"{period:%Y-%m}") for code, period in pairs_for_incident(incident=current)] if current else []
        schedule_recompute(now + also)

    transaction.on_commit(schedule)


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
