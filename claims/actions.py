"""The claim's actions: one table for the merchant portal, the staff console and the API
(``core.actions`` runs them). Services re-check role, owner and state on every call."""

from django.utils.translation import gettext_lazy as _

from core.actions import Action

from . import forms, services
from . import serializers as s
from .models import ClaimState

MERCHANT = {
    "submit": Action(
        run=lambda c, u, d: services.submit(claim=c, by=u, message=d.get("message", "")),
        form=forms.MessageForm,
        serializer=s.MessageSerializer,
        success=_("Claim submitted."),
        summary="Submit a proposed or draft claim (merchant)",
    ),
    "answer": Action(
        run=lambda c, u, d: services.answer(claim=c, by=u, message=d["message"], documents=d["documents"]),
        form=forms.AnswerForm,
        serializer=s.AnswerSerializer,
        success=_("Your answer was sent; the claim is back under review."),
        summary="Answer an information request (merchant)",
    ),
    "accept": Action(
        run=lambda c, u, d: services.accept(claim=c, by=u, message=d.get("message", "")),
        form=forms.MessageForm,
        serializer=s.MessageSerializer,
        success=_("You accepted the decision."),
        summary="Accept the decision (merchant)",
    ),
    "dispute": Action(
        run=lambda c, u, d: services.dispute(
            claim=c, by=u, reason=d["reason"], statement=d["statement"], documents=d["documents"]
        ),
        form=forms.DisputeForm,
        serializer=s.DisputeSerializer,
        success=_("Your dispute was filed; another staff member will review it."),
        summary="Dispute the decision once (merchant)",
    ),
    "withdraw": Action(
        run=lambda c, u, d: services.withdraw(claim=c, by=u, message=d.get("message", "")),
        form=forms.MessageForm,
        serializer=s.MessageSerializer,
        success=_("Claim withdrawn."),
        summary="Withdraw the claim (merchant)",
    ),
}

STAFF = {
    "start_review": Action(
        run=lambda c, u, d: services.start_review(claim=c, by=u),
        success=_("You took the claim into review."),
        summary="Take the claim into review (support)",
    ),
    "request_info": Action(
        run=lambda c, u, d: services.request_info(claim=c, by=u, reason=d["reason"], message=d["message"]),
        form=forms.InfoRequestForm,
        serializer=s.ReasonMessageSerializer,
        success=_("Information requested from the merchant."),
        summary="Ask the merchant for information (support)",
    ),
    "approve": Action(
        run=lambda c, u, d: services.approve(claim=c, by=u, reason=d["reason"], message=d["message"]),
        form=forms.DecisionForm,
        serializer=s.DecisionSerializer,
        success=_("Claim approved."),
        summary="Approve the computed amount (support)",
    ),
    "partially_approve": Action(
        run=lambda c, u, d: services.partially_approve(
            claim=c, by=u, amount=d["amount"], reason=d["reason"], message=d["message"]
        ),
        form=forms.PartialDecisionForm,
        serializer=s.PartialDecisionSerializer,
        success=lambda claim: (
            _("Above the computed maximum: the amount waits for a second approval.")
            if claim.pending_amount is not None
            else _("Claim approved.")
            if claim.state == ClaimState.APPROVED
            else _("Claim partially approved.")
        ),
        summary="Approve an adjusted amount (support; above the computed maximum a second approval is needed)",
    ),
    "confirm_approval": Action(
        run=lambda c, u, d: services.confirm_approval(claim=c, by=u),
        success=_("Second approval given."),
        summary="Confirm a pending approval above the computed maximum (another support user)",
    ),
    "reject": Action(
        run=lambda c, u, d: services.reject(claim=c, by=u, reason=d["reason"], message=d["message"]),
        form=forms.RejectForm,
        serializer=s.RejectDecisionSerializer,
        success=_("Claim rejected."),
        summary="Reject (support)",
    ),
    "settle": Action(
        run=lambda c, u, d: services.settle(claim=c, by=u, payment_reference=d["payment_reference"]),
        form=forms.SettleForm,
        serializer=s.SettleSerializer,
        success=_("Claim marked as paid."),
        summary="Mark an accepted claim as paid (finance)",
    ),
}

_UPLOAD = Action(
    run=lambda c, u, d: services.add_evidence(claim=c, by=u, upload=d["file"]),
    form=forms.UploadForm,
    success=_("Document added."),
)
# Evidence is added from the claim page on both sides (the API has its own documents endpoint).
PORTAL_PAGE = {**MERCHANT, "upload": _UPLOAD}
CONSOLE_PAGE = {**STAFF, "upload": _UPLOAD}
ALL = {**MERCHANT, **STAFF}
