"""The claim workflow: a merchant's claim for compensation after an incident.

``Claim`` is a django-fsm state machine (protected state field, optimistic locking via
``ConcurrentTransitionMixin``); its transitions are called only from
``claims.services``, which checks permissions, locks the row, records a
``ClaimEvent`` (our own append-only audit, next to django-fsm-log's StateLog) and notifies
the other side. ``ClaimDocument`` is evidence, ``ClaimNotification`` the in-portal inbox.
"""

import os
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core import texts
from core.append_only import AppendOnlyModel

__all__ = [
    "ClaimState",
    "ReasonCode",
    "ClaimOrigin",
    "Claim",
    "ClaimEvent",
    "ClaimDocument",
    "ClaimNotification",
    "APPROVE_REASONS",
    "DECISION_REASONS",
    "DECISION_REASONS_BY_ACTION",
    "INFO_REQUEST_REASONS",
    "PARTIAL_APPROVAL_REASONS",
    "REJECT_REASONS",
    "DISPUTE_REASONS",
]


class ClaimState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    INFO_REQUESTED = "info_requested", _("Information requested")
    APPROVED = "approved", _("Approved")
    PARTIALLY_APPROVED = "partially_approved", _("Partially approved")
    REJECTED = "rejected", _("Rejected")
    ACCEPTED = "accepted", _("Accepted")
    DISPUTED = "disputed", _("Disputed")
    SETTLED = "settled", _("Settled")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


S = ClaimState
DECIDED_STATES = [S.APPROVED, S.PARTIALLY_APPROVED, S.REJECTED]
OPEN_FOR_STAFF = [S.SUBMITTED, S.UNDER_REVIEW, S.DISPUTED]
TERMINAL_STATES = [S.ACCEPTED, S.SETTLED, S.WITHDRAWN, S.EXPIRED]
WITHDRAWABLE = [S.PROPOSED, S.DRAFT, S.SUBMITTED, S.UNDER_REVIEW, S.INFO_REQUESTED]
# The staff queue's default: claims staff still owe something on (or wait on the merchant for).
OPEN_STAFF_STATES = [S.SUBMITTED, S.UNDER_REVIEW, S.DISPUTED, S.INFO_REQUESTED]


class ReasonCode(models.TextChoices):
    """Why a step was taken; every staff decision and every dispute carries one."""

    LOSS_CONFIRMED = "loss_confirmed", _("Loss confirmed by the metrics")
    BASELINE_ADJUSTED = "baseline_adjusted", _("Baseline adjusted")
    PARTIAL_EVIDENCE = "partial_evidence", _("Evidence supports part of the claim")
    OUTSIDE_INCIDENT = "outside_incident", _("Loss outside the incident window")
    NOT_PLATFORM_CAUSED = "not_platform_caused", _("Loss not caused by the platform")
    INSUFFICIENT_EVIDENCE = "insufficient_evidence", _("Insufficient evidence")
    DUPLICATE = "duplicate", _("Duplicate claim")
    MISSING_INFORMATION = "missing_information", _("Information missing")
    AMOUNT_DISAGREEMENT = "amount_disagreement", _("Disagree with the amount")
    DECISION_DISAGREEMENT = "decision_disagreement", _("Disagree with the decision")
    MERCHANT_REQUEST = "merchant_request", _("At the merchant's request")
    NO_RESPONSE = "no_response", _("No response in time")
    NOT_AFFECTED = "not_affected", _("No longer affected after recomputation")
    PAYMENT = "payment", _("Paid")
    OTHER = "other", _("Other")


# Each staff step offers its own reasons (the page's list and the API's choices), and the
# service refuses a reason of another step. Every code stays a ``ReasonCode``, so stored rows stay valid.
APPROVE_REASONS = [ReasonCode.LOSS_CONFIRMED, ReasonCode.OTHER]
PARTIAL_APPROVAL_REASONS = [
    ReasonCode.BASELINE_ADJUSTED,
    ReasonCode.PARTIAL_EVIDENCE,
    ReasonCode.OUTSIDE_INCIDENT,
    ReasonCode.OTHER,
]
REJECT_REASONS = [
    ReasonCode.NOT_PLATFORM_CAUSED,
    ReasonCode.OUTSIDE_INCIDENT,
    ReasonCode.INSUFFICIENT_EVIDENCE,
    ReasonCode.DUPLICATE,
    ReasonCode.OTHER,
]
INFO_REQUEST_REASONS = [ReasonCode.MISSING_INFORMATION, ReasonCode.INSUFFICIENT_EVIDENCE, ReasonCode.OTHER]
DECISION_REASONS_BY_ACTION = {
    "approve": APPROVE_REASONS,
    "partially_approve": PARTIAL_APPROVAL_REASONS,
    "reject": REJECT_REASONS,
}
# Any decision's reason (for readers that list them all).
DECISION_REASONS = list(dict.fromkeys(APPROVE_REASONS + PARTIAL_APPROVAL_REASONS + REJECT_REASONS))
DISPUTE_REASONS = [ReasonCode.AMOUNT_DISAGREEMENT, ReasonCode.DECISION_DISAGREEMENT, ReasonCode.OTHER]


class ClaimOrigin(models.TextChoices):
    SYSTEM = "system", _("Proposed by the system")
    MERCHANT = "merchant", _("Filed by the merchant")


class Claim(ConcurrentTransitionMixin, models.Model):
    """One claim per merchant per incident.

    ``computed_amount`` is the loss engine's compensation for this merchant and incident,
    the maximum staff may approve alone; above it a second staff member must confirm.
    """

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="claims", verbose_name=_("incident")
    )
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, related_name="claims", verbose_name=_("merchant")
    )
    state = FSMField(_("state"), default=S.PROPOSED, choices=S.choices, protected=True, db_index=True)
    origin = models.CharField(_("origin"), max_length=10, choices=ClaimOrigin.choices)
    currency = models.CharField(_("currency"), max_length=3)
    computed_amount = models.DecimalField(_("computed amount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    claimed_amount = models.DecimalField(_("claimed amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    approved_amount = models.DecimalField(_("approved amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    # Filed by a merchant for a session the system did not detect.
    session_reference = models.CharField(_("session"), max_length=200, blank=True)
    statement = models.TextField(_("statement"), blank=True)

    # Review.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("assignee"),
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    first_response_due_at = models.DateTimeField(_("first response due at"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded at"), null=True, blank=True)
    decision_due_at = models.DateTimeField(_("decision due at"), null=True, blank=True)
    # The nearest staff deadline (first response, then decision); empty while waiting on the merchant.
    due_at = models.DateTimeField(_("next staff deadline"), null=True, blank=True, db_index=True)
    info_requested_at = models.DateTimeField(_("information requested at"), null=True, blank=True)
    # Time spent waiting for the merchant's answers before the first decision (the review clock
    # stops meanwhile: the decision deadline moves by the same amount); added up on each answer.
    merchant_wait = models.DurationField(_("waiting for the merchant"), default=timedelta(0))
    # The merchant side's deadline (proposal or info request); the reminder goes out before it.
    expires_at = models.DateTimeField(_("merchant deadline"), null=True, blank=True, db_index=True)
    reminder_sent_at = models.DateTimeField(_("reminder sent at"), null=True, blank=True)

    # Decision (the latest one; the first is kept in the audit trail and first_decided_by).
    decision_reason = models.CharField(_("decision reason"), max_length=40, choices=ReasonCode.choices, blank=True)
    decision_message = models.TextField(_("decision message"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    first_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("first decided by"),
    )
    first_decided_at = models.DateTimeField(_("first decided at"), null=True, blank=True)
    # A partial approval above computed_amount waits for a second staff member.
    pending_amount = models.DecimalField(
        _("amount awaiting second approval"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    pending_reason = models.CharField(
        _("reason awaiting second approval"), max_length=40, choices=ReasonCode.choices, blank=True
    )
    pending_message = models.TextField(_("message awaiting second approval"), blank=True)
    pending_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("second approval requested by"),
    )
    second_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("second approver"),
    )

    # Dispute (once).
    dispute_count = models.PositiveSmallIntegerField(_("number of disputes"), default=0)
    dispute_reason = models.CharField(_("dispute reason"), max_length=40, choices=ReasonCode.choices, blank=True)
    dispute_statement = models.TextField(_("dispute statement"), blank=True)
    disputed_at = models.DateTimeField(_("disputed at"), null=True, blank=True)

    # A recomputation that differs from a decided claim's amount, shown to staff.
    recomputed_amount = models.DecimalField(
        _("recomputed amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    recomputed_at = models.DateTimeField(_("recomputed at"), null=True, blank=True)

    # Settlement (the settlements work builds batches on top).
    payment_reference = models.CharField(_("payment reference"), max_length=120, blank=True)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    # When the merchant accepted the decision: the ledger and batch periods select and order by
    # it, so it is stored (and indexed) rather than looked up in the audit trail for every row.
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True, editable=False)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "merchant"], name="claim_one_per_merchant_incident"),
            models.CheckConstraint(condition=Q(computed_amount__gte=0), name="claim_computed_nonnegative"),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True) | Q(approved_amount__gte=0), name="claim_approved_nonnegative"
            ),
            models.CheckConstraint(condition=Q(dispute_count__lte=1), name="claim_disputed_once"),
        ]
        indexes = [
            models.Index(fields=["state", "due_at"]),
            models.Index(fields=["merchant", "state"]),
            models.Index(
                fields=["accepted_at", "id"], name="claim_accepted_idx", condition=Q(accepted_at__isnull=False)
            ),
            # The API lists newest first; the queue reads open claims by deadline (NULLs last).
            models.Index(fields=["-created_at", "-id"], name="claim_created_idx"),
            models.Index(
                fields=["due_at", "created_at", "id"],
                name="claim_queue_idx",
                condition=Q(state__in=OPEN_STAFF_STATES),
            ),
        ]
        permissions = [("settle_claim", "Can mark an accepted claim as settled (finance)")]

    def __str__(self):
        return f"Claim #{self.pk} {self.merchant_id}/{self.incident_id} {self.state}"

    @property
    def is_final_round(self) -> bool:
        """After a dispute, the next decision is final."""
        return self.dispute_count >= 1

    @property
    def is_decided(self) -> bool:
        return self.first_decided_at is not None

    @property
    def has_computed_amount(self) -> bool:
        """False for a claim the merchant filed and the loss engine found nothing for: its
        ``computed_amount`` 0.00 means "not computed", not "worth nothing"."""
        return self.origin != ClaimOrigin.MERCHANT or self.computed_amount != 0

    @property
    def payable_amount(self) -> Decimal | None:
        return self.approved_amount

    @property
    def asked_amount(self) -> Decimal | None:
        """What the merchant asks for: the amount they claimed, else the computed proposal;
        None for a claim nothing computed and nobody claimed an amount for yet."""
        if self.claimed_amount is not None:
            return self.claimed_amount
        return self.computed_amount if self.has_computed_amount and self.computed_amount else None

    def is_overdue(self, now) -> bool:
        return self.due_at is not None and self.due_at < now

    # --- Transitions: called only from claims.services (inside transaction.atomic) ---
    @transition(field=state, source=[S.PROPOSED, S.DRAFT], target=S.SUBMITTED)
    def submit(self, by=None, description=None):
        pass

    @transition(field=state, source=[S.SUBMITTED, S.DISPUTED], target=S.UNDER_REVIEW)
    def start_review(self, by=None, description=None):
        pass

    @transition(field=state, source=S.UNDER_REVIEW, target=S.INFO_REQUESTED)
    def request_info(self, by=None, description=None):
        pass

    @transition(field=state, source=S.INFO_REQUESTED, target=S.UNDER_REVIEW)
    def answer(self, by=None, description=None):
        pass

    @transition(field=state, source=S.UNDER_REVIEW, target=S.APPROVED)
    def approve(self, by=None, description=None):
        pass

    @transition(field=state, source=S.PROPOSED, target=S.APPROVED)
    def approve_proposal(self, by=None, description=None):
        """Bulk approval by staff of a system proposal at its computed amount."""

    @transition(field=state, source=S.UNDER_REVIEW, target=S.PARTIALLY_APPROVED)
    def partially_approve(self, by=None, description=None):
        pass

    @transition(field=state, source=S.UNDER_REVIEW, target=S.REJECTED)
    def reject(self, by=None, description=None):
        pass

    @transition(field=state, source=[S.APPROVED, S.PARTIALLY_APPROVED], target=S.ACCEPTED)
    def accept(self, by=None, description=None):
        pass

    @transition(
        field=state,
        source=[S.APPROVED, S.PARTIALLY_APPROVED, S.REJECTED],
        target=S.DISPUTED,
        conditions=[lambda claim: cast("Claim", claim).dispute_count == 0],
    )
    def dispute(self, by=None, description=None):
        pass

    @transition(field=state, source=S.ACCEPTED, target=S.SETTLED)
    def settle(self, by=None, description=None):
        pass

    @transition(field=state, source=WITHDRAWABLE, target=S.WITHDRAWN)
    def withdraw(self, by=None, description=None):
        pass

    @transition(field=state, source=[S.PROPOSED, S.INFO_REQUESTED], target=S.EXPIRED)
    def expire(self, by=None, description=None):
        pass


def state_label(value: str) -> str:
    """The translated label of a claim state code ("" for empty, the code itself if unknown)."""
    if not value:
        return ""
    try:
        return str(ClaimState(value).label)
    except ValueError:
        return value


# What each action does to a claim, completing "A claim in state … cannot be %(action)s."
# (English past participles; other languages may use the plain verb).
ACTION_LABELS = {
    "submit": pgettext_lazy("claim action", "submitted"),
    "answer": pgettext_lazy("claim action", "answered"),
    "accept": pgettext_lazy("claim action", "accepted"),
    "dispute": pgettext_lazy("claim action", "disputed"),
    "withdraw": pgettext_lazy("claim action", "withdrawn"),
    "start_review": pgettext_lazy("claim action", "taken into review"),
    "request_info": pgettext_lazy("claim action", "returned to the merchant for information"),
    "approve": pgettext_lazy("claim action", "approved"),
    "approve_proposal": pgettext_lazy("claim action", "approved"),
    "partially_approve": pgettext_lazy("claim action", "partially approved"),
    "reject": pgettext_lazy("claim action", "rejected"),
    "settle": pgettext_lazy("claim action", "settled"),
    "expire": pgettext_lazy("claim action", "marked as expired"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action.replace("_", " ")


# ``ClaimEvent.actor_role`` values (accounts.roles plus "system"), as shown in the audit trail.
ACTOR_ROLE_LABELS = {
    "merchant": pgettext_lazy("actor role", "merchant"),
    "support": pgettext_lazy("actor role", "support"),
    "finance": pgettext_lazy("actor role", "finance"),
    "system": pgettext_lazy("actor role", "system"),
}


# The system's sentences on a claim's timeline and in its notifications (``ClaimEvent.text_code``).
CLAIM_TEXTS = {
    "recomputed": _("Estimate recomputed: %(old_amount)s → %(new_amount)s %(currency)s."),
    "recompute_matches": _(
        "Recomputed estimate %(new_amount)s %(currency)s matches the computed amount used for the decision again."
    ),
    "recompute_differs": _(
        "Recomputed estimate %(new_amount)s %(currency)s differs from the computed amount %(old_amount)s used for "
        "the decision (decided amount %(decided_amount)s); the claim was not changed."
    ),
    "second_approval": _("%(message)s (second approval of %(amount)s %(currency)s)"),
    "reminder": _("Claim #%(id)s expires on %(expires_at)s unless you act."),
    "bulk_approval": _("Bulk approval of proposed claims below %(threshold_amount)s."),
    "payment_failed": _("%(reason)s (settlement batch %(batch)s)"),
    "paid": _("Payment reference: %(reference)s"),
    "payment_failed_notice": _(
        "The payment of %(amount)s %(currency)s for claim #%(id)s failed: %(reason)s. "
        "Check your payout details (bank account name and number) on the Payout details page; "
        "the claim is paid again in the next settlement batch."
    ),
}
# The words for a parameter left empty.
BLANK_PARAMS = {"reason": _("no reason given")}
# A notification shows this text for an event of that code (else the event's own sentence).
NOTICE_CODES = {"payment_failed": "payment_failed_notice"}


class ClaimEvent(AppendOnlyModel):
    """Append-only audit trail: who did what to a claim, when, from which state to which."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        TRANSITION = "transition", _("State change")
        EVIDENCE = "evidence", _("Evidence added")
        APPROVAL_REQUESTED = "approval_requested", _("Second approval requested")
        RECOMPUTED = "recomputed", _("Estimate recomputed")
        NOTE = "note", _("Note")
        REMINDER = "reminder", _("Reminder sent")
        PAYMENT_FAILED = "payment_failed", _("Payment failed")

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events", verbose_name=_("claim"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    action = models.CharField(_("action"), max_length=40, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_role = models.CharField(_("actor role"), max_length=20, help_text=_("merchant, support, finance or system"))
    from_state = models.CharField(_("from state"), max_length=20, blank=True)
    to_state = models.CharField(_("to state"), max_length=20, blank=True)
    reason_code = models.CharField(_("reason"), max_length=40, choices=ReasonCode.choices, blank=True)
    # What a person wrote, as they wrote it (the column keeps its name "message"; ``message``
    # below is what is shown: the system's sentence in the reader's language, or this note).
    note = models.TextField(_("message"), blank=True, db_column="message")
    # A sentence of the system: a ``CLAIM_TEXTS`` code and its parameters (``core.texts``).
    text_code = models.CharField(_("text code"), max_length=40, blank=True)
    text_params = models.JSONField(_("text parameters"), default=dict, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    computed_amount = models.DecimalField(_("computed amount"), max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("claim event")
        verbose_name_plural = _("claim events")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.claim_id} {self.kind} {self.from_state}->{self.to_state}"

    @property
    def message(self) -> str:
        """The event's text in the active language: the system's sentence when it has one, else
        what the person wrote (rows from before the codes keep their stored text)."""
        if self.text_code:
            return texts.render(CLAIM_TEXTS, self.text_code, self.text_params, blank=BLANK_PARAMS) or self.note
        return self.note

    @message.setter
    def message(self, value: str) -> None:
        self.note = value

    @property
    def notice(self) -> str:
        """What a notification about this event says, in the active language (the merchant's
        notice of a failed payment says more than the timeline: what to do)."""
        code = NOTICE_CODES.get(self.text_code, self.text_code)
        return texts.render(CLAIM_TEXTS, code, self.text_params, blank=BLANK_PARAMS) if code else ""

    @property
    def from_state_label(self) -> str:
        return state_label(self.from_state)

    @property
    def to_state_label(self) -> str:
        return state_label(self.to_state)

    @property
    def actor_role_label(self) -> str:
        label = ACTOR_ROLE_LABELS.get(self.actor_role)
        return str(label) if label is not None else self.actor_role


def evidence_path(instance, filename):
    """A random name under the claim's folder; only the (content-checked) extension is kept."""
    extension = os.path.splitext(filename)[1].lower()[:5]
    return f"claims/evidence/{instance.claim_id}/{uuid.uuid4().hex}{extension}"


class ClaimDocument(models.Model):
    """Evidence (PDF, PNG, JPEG or CSV up to 10 MB), readable by the claim's merchant and staff only."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        PNG = "png", "PNG"
        JPEG = "jpeg", "JPEG"
        CSV = "csv", "CSV"

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="documents", verbose_name=_("claim"))
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=300)
    original_name = models.CharField(_("original file name"), max_length=255)
    kind = models.CharField(_("file type"), max_length=10, choices=Kind.choices)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("claim document")
        verbose_name_plural = _("claim documents")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


# Notification subjects by what happened; shown in the reader's language (the stored ``subject``
# and the email are in the default language).
NOTIFICATION_SUBJECTS = {
    "submit": _("Claim #%(id)s submitted by %(merchant)s"),
    "answer": _("Claim #%(id)s: the merchant answered"),
    "accept": _("Claim #%(id)s: the merchant accepted the decision"),
    "dispute": _("Claim #%(id)s: the merchant disputes the decision"),
    "withdraw": _("Claim #%(id)s withdrawn by the merchant"),
    "start_review": _("Your claim #%(id)s is under review"),
    "request_info": _("Claim #%(id)s: more information is needed"),
    "approve": _("Claim #%(id)s approved"),
    "approve_proposal": _("Claim #%(id)s approved"),
    "partially_approve": _("Claim #%(id)s partially approved"),
    "reject": _("Claim #%(id)s rejected"),
    "settle": _("Claim #%(id)s paid"),
    "expire": _("Claim #%(id)s expired"),
    "propose": _("A compensation proposal is waiting: claim #%(id)s"),
    "approval_requested": _("Claim #%(id)s: a second approval is needed"),
    "reminder": _("Claim #%(id)s expires soon"),
    "recomputed": _("Claim #%(id)s: the estimate was recomputed"),
    "payment_failed": _("Claim #%(id)s: the payment failed"),
}
UPDATED_SUBJECT = _("Claim #%(id)s updated")
# Events that are not transitions name their notification by kind (transitions by their action).
NOTIFICATION_KEY_BY_EVENT_KIND = {
    "approval_requested": "approval_requested",
    "reminder": "reminder",
    "recomputed": "recomputed",
    "note": "recomputed",
    "payment_failed": "payment_failed",
}


def notification_subject(key: str, claim) -> str:
    """The subject of a notification about ``claim``, in the active language."""
    return str(NOTIFICATION_SUBJECTS.get(key, UPDATED_SUBJECT)) % {"id": claim.pk, "merchant": claim.merchant.name}


class ClaimNotification(models.Model):
    """An in-portal/console notification for one user (the email copy goes out at the same time)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="claim_notifications",
        verbose_name=_("recipient"),
    )
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("claim"))
    event = models.ForeignKey(
        ClaimEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("claim event")
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("claim notification")
        verbose_name_plural = _("claim notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.subject

    @property
    def key(self) -> str:
        """What happened (a ``NOTIFICATION_SUBJECTS`` key), from the audit event the notification is about."""
        if self.event is None:
            return ""
        return NOTIFICATION_KEY_BY_EVENT_KIND.get(self.event.kind, self.event.action)

    @property
    def text(self) -> str:
        """The body in the reader's language: what a person wrote, else the system's notice of
        the event (needs ``event``)."""
        if self.body:
            return self.body
        return self.event.notice if self.event is not None else ""

    @property
    def localized_subject(self) -> str:
        """The subject in the reader's language (needs ``event`` and ``claim__merchant``; else the stored one)."""
        if self.key not in NOTIFICATION_SUBJECTS:
            return self.subject
        return notification_subject(self.key, self.claim)
