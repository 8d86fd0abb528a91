"""Settlement batches and their items, payment imports, the finance audit trail, issued documents.

``SettlementBatch`` is a django-fsm machine ``open -> locked -> exported -> paid | partially_paid | failed``
(or ``open -> cancelled``);
its transitions are called only from ``settlements.services.settlements`` (inside
``transaction.atomic()``), which appends a ``SettlementEvent`` for each change (who, when, why)
next to django-fsm-log's StateLog. A claim is in at most one *active* item (pending or paid),
enforced by a partial unique constraint; a failed or removed item is inactive, so the claim can
join the next batch.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition

from core import texts
from core.append_only import AppendOnlyModel


class BatchState(models.TextChoices):
    OPEN = "open", _("Open")
    LOCKED = "locked", _("Locked")
    EXPORTED = "exported", _("Exported")
    PAID = "paid", _("Paid")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")
    # Every item failed: nothing was paid, so "partially paid" would be untrue.
    FAILED = "failed", _("Failed")
    # Given up while open (it may be empty): its claims, if any, go back to the eligible list.
    CANCELLED = "cancelled", _("Cancelled")


class SettlementBatch(ConcurrentTransitionMixin, models.Model):
    # Set by readers for one response, never stored: per-currency totals
    # (``selectors.attach_totals``) and one page of items (the API's batch detail).
    totals: list[dict]
    items_page: dict

    reference = models.CharField(_("reference"), max_length=40, unique=True)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    state = FSMField(_("state"), default=BatchState.OPEN, choices=BatchState.choices, protected=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    exported_at = models.DateTimeField(_("exported at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    # SHA-256 of the CSV export at the moment of export (the file is a pure function of the batch).
    export_sha256 = models.CharField(_("export SHA-256"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("settlement batch")
        verbose_name_plural = _("settlement batches")
        constraints = [
            # Only an open batch is cancelled: one that was locked or exported has a payment run.
            models.CheckConstraint(
                condition=~Q(state="cancelled") | (Q(locked_at__isnull=True) & Q(exported_at__isnull=True)),
                name="settlement_batch_cancelled_only_when_open",
            ),
        ]

    def __str__(self):
        return self.reference

    @transition(field=state, source=BatchState.OPEN, target=BatchState.LOCKED)
    def lock(self, by=None, description=None):
        pass

    @transition(field=state, source=BatchState.OPEN, target=BatchState.CANCELLED)
    def cancel(self, by=None, description=None):
        pass

    @transition(field=state, source=BatchState.LOCKED, target=BatchState.EXPORTED)
    def mark_exported(self, by=None, description=None):
        pass

    @transition(
        field=state,
        source=BatchState.EXPORTED,
        target=RETURN_VALUE(BatchState.PAID, BatchState.PARTIALLY_PAID, BatchState.FAILED),
    )
    def complete(self, all_paid: bool, none_paid: bool = False, by=None, description=None):
        if all_paid:
            return BatchState.PAID
        return BatchState.FAILED if none_paid else BatchState.PARTIALLY_PAID


class ItemStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REMOVED = "removed", _("Removed")


ACTIVE_STATUSES = (ItemStatus.PENDING, ItemStatus.PAID)


class SettlementItem(models.Model):
    """One claim in one batch, with the amount to pay fixed when it joined."""

    batch = models.ForeignKey(
        SettlementBatch, on_delete=models.PROTECT, related_name="items", verbose_name=_("settlement batch")
    )
    claim = models.ForeignKey(
        "claims.Claim", on_delete=models.PROTECT, related_name="settlement_items", verbose_name=_("claim")
    )
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    currency = models.CharField(_("currency"), max_length=3)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    status = models.CharField(_("status"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    is_active = models.BooleanField(_("active"), default=True)
    payment_reference = models.CharField(_("payment reference"), max_length=120, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=255, blank=True)
    # The merchant's payout account when the batch was locked: the file pays this account, and
    # a later change reaches the claim's next batch, not the file already sent.
    payout_account_name = models.CharField(_("payout account holder"), max_length=200, blank=True)
    payout_bank = models.CharField(_("payout bank"), max_length=200, blank=True)
    payout_account_number = models.CharField(_("payout account number"), max_length=34, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("added by")
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("settlement item")
        verbose_name_plural = _("settlement items")
        ordering = ["batch", "claim_id"]
        constraints = [
            models.UniqueConstraint(fields=["claim"], condition=Q(is_active=True), name="settlement_one_active_item"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="settlement_item_amount_positive"),
            models.CheckConstraint(
                condition=(Q(is_active=True) & Q(status__in=["pending", "paid"]))
                | (Q(is_active=False) & Q(status__in=["failed", "removed"])),
                name="settlement_item_active_matches_status",
            ),
        ]
        indexes = [models.Index(fields=["batch", "status"])]

    def __str__(self):
        return f"{self.batch_id}/{self.claim_id} {self.amount} {self.currency} {self.status}"


class PaymentImport(models.Model):
    """A bank/payment result file applied to a batch (a file applied once is recognised by its hash)."""

    batch = models.ForeignKey(
        SettlementBatch, on_delete=models.PROTECT, related_name="imports", verbose_name=_("settlement batch")
    )
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    paid = models.PositiveIntegerField(_("rows paid"), default=0)
    failed = models.PositiveIntegerField(_("rows failed"), default=0)
    unchanged = models.PositiveIntegerField(_("rows unchanged"), default=0)
    # The batch CSV changes with each payment file (status, references): the hash of the version
    # that downloads right after this file was applied, so every version can be checked.
    result_sha256 = models.CharField(_("SHA-256 of the batch CSV after this file"), max_length=64, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("imported by")
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("payment import")
        verbose_name_plural = _("payment imports")
        ordering = ["imported_at", "id"]
        constraints = [models.UniqueConstraint(fields=["batch", "sha256"], name="payment_import_once_per_file")]

    def __str__(self):
        return f"{self.batch_id} {self.filename}"


class EventAction(models.TextChoices):
    CREATE = "create", _("Batch created")
    ADD = "add", _("Claim added")
    ADD_CLAIMS = "add_claims", _("Claims added")
    REMOVE = "remove", _("Claim removed")
    LOCK = "lock", _("Locked")
    EXPORT = "export", _("Exported")
    PAYMENT = "payment", _("Payment recorded")
    IMPORT = "import", _("Payment file imported")
    COMPLETE = "complete", _("Completed")
    CANCEL = "cancel", _("Batch cancelled")


# Events move batches (BatchState) and items (ItemStatus); "paid" means the same in both.
STATE_LABELS = {**dict(ItemStatus.choices), **dict(BatchState.choices)}


# The system's sentences in a batch's history (``SettlementEvent.text_code``).
SETTLEMENT_TEXTS = {
    "paid": _("Paid, reference %(reference)s (%(file)s line %(line)s)"),
    "failed": _("Failed: %(reason)s (%(file)s line %(line)s); the claim goes to the next batch"),
}


class SettlementEvent(AppendOnlyModel):
    """Append-only: who changed what in a batch, when and why."""

    batch = models.ForeignKey(
        SettlementBatch, on_delete=models.PROTECT, related_name="events", verbose_name=_("settlement batch")
    )
    item = models.ForeignKey(
        SettlementItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("settlement item"),
    )
    action = models.CharField(_("action"), max_length=30, choices=EventAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("actor")
    )
    from_state = models.CharField(_("from state"), max_length=20, blank=True)
    to_state = models.CharField(_("to state"), max_length=20, blank=True)
    # What a person wrote (a note, a reason); the column keeps its name "message", and
    # ``message`` below is what is shown: the system's sentence in the reader's language, or this.
    note = models.TextField(_("message"), blank=True, db_column="message")
    # A sentence of the system: a ``SETTLEMENT_TEXTS`` code and its parameters (``core.texts``).
    text_code = models.CharField(_("text code"), max_length=40, blank=True)
    text_params = models.JSONField(_("text parameters"), default=dict, blank=True)
    # How many claims a batch-wide event (claims added) covers: stored as a number so that the
    # words are written in the reader's language when shown (``count_label``), not the writer's.
    count = models.PositiveIntegerField(_("claims"), null=True, blank=True)
    # A payment file's event shows that file's figures (rows paid, failed, unchanged) in words at display time.
    payment_import = models.ForeignKey(
        "PaymentImport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("payment import"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("settlement event")
        verbose_name_plural = _("settlement events")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.batch_id} {self.action}"

    @property
    def message(self) -> str:
        """The event's text in the active language (rows from before the codes keep their stored text)."""
        if self.text_code:
            blank = {"reason": _("no reason given")}
            return texts.render(SETTLEMENT_TEXTS, self.text_code, self.text_params, blank=blank) or self.note
        return self.note

    @message.setter
    def message(self, value: str) -> None:
        self.note = value

    @property
    def count_label(self) -> str:
        if self.count is None:
            return ""
        return ngettext("%(n)s claim", "%(n)s claims", self.count) % {"n": self.count}

    @property
    def from_state_label(self):
        return STATE_LABELS.get(self.from_state, self.from_state)

    @property
    def to_state_label(self):
        return STATE_LABELS.get(self.to_state, self.to_state)


class DocumentKind(models.TextChoices):
    CLAIM_STATEMENT = "claim_statement", _("Claim settlement statement")
    EVIDENCE_PACK = "evidence_pack", _("Dispute evidence pack")
    MONTHLY_STATEMENT = "monthly_statement", _("Monthly merchant statement")


def document_path(instance, filename):
    return f"documents/{instance.kind}/{instance.subject_key.replace(':', '-')}/v{instance.version}-{filename}"


class IssuedDocument(models.Model):
    """One issued version of a PDF document. Never overwritten: a reissue is version n+1 with a reason."""

    kind = models.CharField(_("document type"), max_length=30, choices=DocumentKind.choices)
    # "claim:<id>" or "merchant:<id>:<YYYY-MM>"; with kind it names the document across versions.
    subject_key = models.CharField(_("subject key"), max_length=60)
    claim = models.ForeignKey(
        "claims.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("claim")
    )
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    period = models.DateField(
        _("period"), null=True, blank=True, help_text=_("First day of the month (monthly statements).")
    )
    version = models.PositiveIntegerField(_("version"))
    template_version = models.CharField(_("template version"), max_length=20)
    reason = models.TextField(_("reason"), blank=True)
    file = models.FileField(_("file"), upload_to=document_path, max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    pages = models.PositiveIntegerField(_("pages"), default=0)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    # The issue request this version answers: a re-run of the same request (a Celery task
    # delivered again after a worker crash) finds it instead of issuing another version.
    request_id = models.UUIDField(_("request id"), null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["kind", "subject_key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subject_key", "version"], name="issued_document_version_unique"),
        ]
        indexes = [models.Index(fields=["merchant", "kind"]), models.Index(fields=["claim", "kind"])]

    def __str__(self):
        return f"{self.kind} {self.subject_key} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("An issued document is never changed; reissue it instead.")
        super().save(*args, **kwargs)

    @property
    def subject_label(self) -> str:
        """What the document is about, in words (``subject_key`` is for machines)."""
        if self.claim_id is not None:
            return gettext("Claim #%(id)s · %(merchant)s") % {"id": self.claim_id, "merchant": self.merchant.name}
        month = date_format(self.period, "YEAR_MONTH_FORMAT") if self.period else ""
        merchant = self.merchant.name
        return gettext("Monthly statement · %(merchant)s · %(month)s") % {"merchant": merchant, "month": month}

    @property
    def version_label(self) -> str:
        return gettext("Version %(n)s") % {"n": self.version}

    @property
    def filename(self) -> str:
        return f"{self.kind}-{self.subject_key.replace(':', '-')}-v{self.version}.pdf"
