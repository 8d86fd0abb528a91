"""A settlement batch's actions: one table for the finance pages and the API (``core.actions``)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.actions import Action

from . import exports, forms
from .serializers import ActionSerializer
from .services import settlements as st


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
    "export": Action(
        run=_export,
        form=forms.MessageForm,
        serializer=ActionSerializer,
        success=_("Batch exported: download the files below."),
        summary="Export the batch (the payment file's hash is recorded)",
    ),
}
