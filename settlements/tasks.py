"""Celery tasks of the finance app (thin: the work is in ``settlements.services``)."""

import uuid

from celery import shared_task
from django.contrib.auth import get_user_model


def _as_uuid(task_id):
    """Celery task ids are UUIDs; any other id a caller chose maps to a stable UUID."""
    if not task_id:
        return None
    try:
        return uuid.UUID(str(task_id))
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"celery-task:{task_id}")


@shared_task(name="settlements.issue_document", acks_late=True, bind=True)
def issue_document(self, kind, claim_id=None, merchant_id=None, period=None, user_id=None, reason="", request_id=None):
    """Render and store one document version; returns ``{"id", "version", "sha256", "pages"}``.

    ``request_id`` (a UUID, made by the caller per request) makes the task idempotent: run
    again (acks_late redelivers it after a worker crash) it returns the version it issued.
    Without one the Celery task id serves, which a redelivered message keeps.
    """
    from .services.documents import issue

    by = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    doc = issue(
        kind=kind,
        claim_id=claim_id,
        merchant_id=merchant_id,
        period=period,
        by=by,
        reason=reason,
        request_id=request_id or _as_uuid(self.request.id),
    )
    return {"id": doc.pk, "version": doc.version, "sha256": doc.sha256, "pages": doc.pages}


@shared_task(
    name="settlements.issue_settled_statement",
    acks_late=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
)
def issue_settled_statement(claim_id):
    """A settled claim's statement, queued when the claim is settled (``settlements.receivers``);
    idempotent, and retried with backoff when it fails (the database or the storage was away)."""
    from .services.documents import issue_settled_statement as run

    doc = run(claim_id=claim_id)
    return {"id": doc.pk, "version": doc.version} if doc is not None else None


@shared_task(name="settlements.issue_monthly_statements", acks_late=True)
def issue_monthly_statements(now=None):
    """Beat: last month's statement for every merchant with claims decided/settled in it (idempotent).

    ``now`` (ISO 8601, optional) replaces the current time, to catch up on a given month.
    """
    from datetime import datetime

    from .services.documents import issue_monthly_statements as run

    return run(now=datetime.fromisoformat(now) if now else None)


@shared_task(name="settlements.sweep_orphan_documents", acks_late=True)
def sweep_orphan_documents() -> int:
    """Beat: delete PDF files left without a document row by a crash (see ``sweep_orphan_files``)."""
    from .services.documents import sweep_orphan_files

    return len(sweep_orphan_files())
