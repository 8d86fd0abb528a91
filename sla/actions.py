"""A provider credit claim's steps: one table for the SLA pages and the API (``core.actions``)."""

from django.utils.translation import gettext_lazy as _

from core.actions import Action

from . import forms, services
from . import serializers as s


def moved(claim) -> str:
    return _("Credit claim %(code)s %(period)s is now %(state)s.") % {
        "code": claim.contract_code,
        "period": f"{claim.period:%Y-%m}",
        "state": claim.get_state_display(),
    }


CREDIT_CLAIM = {
    "file": Action(
        run=lambda c, u, d: services.file_claim(
            claim=c,
            by=u,
            reference=d["provider_reference"],
            description=d.get("message", ""),
            amount_claimed=d["amount_claimed"],
        ),
        form=forms.FileClaimForm,
        serializer=s.FileSerializer,
        success=moved,
        summary="File the credit claim with the provider",
    ),
    "acknowledge": Action(
        run=lambda c, u, d: services.acknowledge_claim(
            claim=c, by=u, reference=d.get("provider_reference", ""), description=d.get("message", "")
        ),
        form=forms.AcknowledgeClaimForm,
        serializer=s.AcknowledgeSerializer,
        success=moved,
        summary="Record the provider's acknowledgement",
    ),
    "credit": Action(
        run=lambda c, u, d: services.credit_claim(
            claim=c, by=u, amount=d["amount_received"], description=d.get("message", "")
        ),
        form=forms.CreditClaimForm,
        serializer=s.CreditSerializer,
        success=moved,
        summary="Record the credit received",
    ),
    "reject": Action(
        run=lambda c, u, d: services.reject_claim(claim=c, by=u, reason=d["message"]),
        form=forms.RejectClaimForm,
        serializer=s.RejectSerializer,
        success=moved,
        summary="Record the provider's rejection, with its reason",
    ),
}
