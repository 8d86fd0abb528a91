"""Celery tasks of the claim workflow: recompute after incident changes, expiries and reminders."""

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from claims import config, services
from claims.models import Claim
from core.errors import ApplicationError

EXPIRING = services.EXPIRING_STATES


@shared_task(acks_late=True)
def recompute_incident_claims(incident_id: int) -> dict:
    """Recompute an incident's loss estimates and create/update its proposed claims."""
    from claims.recompute import sync_incident_claims
    from incidents.models import Incident

    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return {"missing": incident_id}
    return sync_incident_claims(incident)


@shared_task
def expire_claims() -> int:
    """Expire unanswered proposals and information requests whose deadline has passed."""
    expired = 0
    now = timezone.now()
    for pk in Claim.objects.filter(state__in=EXPIRING, expires_at__lte=now).values_list("pk", flat=True):
        try:
            # Checks the deadline again under the row lock: the merchant may have acted meanwhile.
            if services.expire_if_due(pk):
                expired += 1
        except ApplicationError:
            continue  # the claim is gone or was changed meanwhile
    return expired


@shared_task
def send_expiry_reminders() -> int:
    """Remind merchants (once) of proposals and information requests expiring within 3 days."""
    now = timezone.now()
    horizon = now + config.days("REMINDER_DAYS_BEFORE")
    due = Claim.objects.filter(
        Q(state__in=EXPIRING), Q(reminder_sent_at__isnull=True), expires_at__gt=now, expires_at__lte=horizon
    )
    return sum(1 for claim in due if services.record_reminder(claim))
