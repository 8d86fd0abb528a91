"""Celery tasks of the claim workflow: recompute after incident changes, expiries and reminders."""

import random

import psycopg
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError, connection
from django.db.models import Q
from django.utils import timezone

from claims import config, services
from claims.models import Claim
from core.errors import ApplicationError

EXPIRING = services.EXPIRING_STATES


def is_transient(exc: BaseException) -> bool:
    """A deadlock, serialization failure or lock timeout: PostgreSQL rolled back, running again succeeds."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure):
            return True
        if isinstance(cause, psycopg.errors.LockNotAvailable):
            return True
        cause = cause.__cause__
    return False


def stopped_by_soft_limit(exc: BaseException) -> bool:
    """The error arose while unwinding a ``SoftTimeLimitExceeded`` (which it then replaced)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, SoftTimeLimitExceeded):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


@shared_task(bind=True, acks_late=True, max_retries=8)
def recompute_incident_claims(self, incident_id: int) -> dict:
    """Recompute an incident's loss estimates and create/update its proposed claims.

    Retried with exponential backoff (0.5 s, 1 s, 2 s ... up to 15 s, plus jitter) when PostgreSQL aborts it
    for a deadlock or a serialization failure: a lost recompute would leave undecided claims at
    a stale amount that an approval would then pay. Running it again is safe (see
    ``sync_incident_claims``).
    """
    from claims.recompute import sync_incident_claims
    from incidents.models import Incident
    from losses.engine import has_anything_to_assess

    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return {"missing": incident_id}
    if not has_anything_to_assess(incident) and not incident.claims.exclude(computed_amount=0).exists():
        return {"skipped": incident_id}  # hit no session: a few cheap queries instead of the whole recompute
    try:
        return sync_incident_claims(incident)
    except SoftTimeLimitExceeded as exc:
        # A very large incident on a busy host: the batches committed so far stay, the next run
        # keeps the unchanged assessments and proposes only to the merchants still without a claim.
        raise self.retry(exc=exc, countdown=0) from exc
    except DatabaseError as exc:
        if stopped_by_soft_limit(exc):
            # The limit fired while PostgreSQL was still answering (a COMMIT, say), and the rollback
            # on the way out found the connection busy. Drop the connection, then as above.
            connection.close()
            raise self.retry(exc=exc, countdown=0) from exc
        if not is_transient(exc):
            raise
        # Capped well below the broker's visibility timeout (a countdown task waits unacknowledged).
        delay = min(0.5 * 2**self.request.retries, 15) + random.uniform(0, 0.5)
        raise self.retry(exc=exc, countdown=delay) from exc


@shared_task
def email_notifications(notification_ids: list[int], key: str, side: str = "merchant") -> int:
    """The e-mail copies of a batch of notifications (``notify.email_later``)."""
    from claims import notify

    return notify.send_emails(notification_ids, key, side=side)


@shared_task
def expire_claims() -> int:
    """Expire unanswered proposals and information requests whose deadline has passed."""
    expired = 0
    now = timezone.now()
    for pk in Claim.objects.filter(state__in=EXPIRING, expires_at__lte=now).values_list("pk", flat=True):
        try:
            # Checks the deadline again under the row lock: the merchant may have acted meanwhile.
            if services.expire_if_due(claim=pk):
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
    return sum(1 for claim in due if services.record_reminder(claim=claim))


@shared_task(name="claims.tasks.drop_expired_metrics")
def drop_expired_metrics() -> list[str]:
    """Daily: drop the metric day partitions past retention whose claim windows have all closed."""
    return services.drop_expired_metrics()
