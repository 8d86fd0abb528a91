"""Finance actions, one table each for the finance pages and the API (``core.actions``): a settlement
batch's steps, and issuing a document."""

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.actions import Action

from . import exports, forms
from .models import IssuedDocument
from .serializers import ActionSerializer, IssueSerializer
from .services import documents as document_services
from .services import settlements as st
from .tasks import issue_document


def _export(batch, user, data):
    payload = exports.csv_bytes(exports.batch_rows(batch))
    return st.mark_exported(batch=batch, by=user, sha256=exports.sha256(payload), message=data.get("message", ""))


def _added(items) -> str:
    n = len(items)
    return ngettext("%(n)d claim added.", "%(n)d claims added.", n) % {"n": n}


BATCH = {
    "add": Action(
        run=lambda b, u, d: st.add_claims(batch=b, by=u, claim_ids=d.get("claim_ids"), message=d.get("message", "")),
        form=forms.AddForm,
        serializer=ActionSerializer,
        success=_added,
        summary="Add claims (the given ids, or every eligible claim of the period)",
    ),
    "remove": Action(
        run=lambda b, u, d: st.remove_item(batch=b, by=u, item_id=d.get("item"), reason=d.get("message", "")),
        form=forms.RemoveForm,
        serializer=ActionSerializer,
        success=_("Claim removed from the batch."),
        summary="Remove an item (message = reason)",
    ),
    "lock": Action(
        run=lambda b, u, d: st.lock(batch=b, by=u, message=d.get("message", "")),
        form=forms.MessageForm,
        serializer=ActionSerializer,
        success=_("Batch locked."),
        summary="Lock the batch",
    ),
    "cancel": Action(
        run=lambda b, u, d: st.cancel(batch=b, by=u, reason=d.get("message", "")),
        form=forms.CancelForm,
        serializer=ActionSerializer,
        success=_("Batch cancelled."),
        summary="Cancel an open batch (message = reason; its claims become eligible again)",
    ),
    "export": Action(
        run=_export,
        form=forms.MessageForm,
        serializer=ActionSerializer,
        success=_("Batch exported: download the files below."),
        summary="Export the batch (the payment file's hash is recorded)",
    ),
}


@dataclass(frozen=True)
class IssueRequest:
    """What a document request did: found the version that exists already, or queued a new one."""

    existing: IssuedDocument | None = None
    task_id: str | None = None


def _issue(_obj: None, user: Any, data: dict[str, Any]) -> IssueRequest:
    """Check the request now (a bad claim number is answered on the form), then render in the worker."""
    period = data.get("period")
    subject = {
        "claim_id": data.get("claim"),
        "merchant_id": data.get("merchant"),
        "period": period.isoformat() if isinstance(period, date) else period or None,
    }
    reason = data.get("reason") or ""
    latest = document_services.check_request(kind=data["kind"], by=user, reason=reason, **subject)
    if latest is not None:
        return IssueRequest(existing=latest)
    result = issue_document.delay(data["kind"], user_id=user.pk, reason=reason, request_id=str(uuid.uuid4()), **subject)
    return IssueRequest(task_id=result.id)


def _issued(result: IssueRequest) -> str:
    if result.existing is not None:
        return gettext("Version %(version)s of this document exists already; give a reason to issue a new version.") % {
            "version": result.existing.version
        }
    return gettext("The document is being generated.")


DOCUMENTS = {
    "issue": Action(
        run=_issue,
        form=forms.IssueDocumentForm,
        serializer=IssueSerializer,
        success=_issued,
        summary="Issue a document (a reason makes it a new version)",
    ),
}
