"""Settlement batches and their items, payment imports, the finance audit trail, issued documents.

``SettlementBatch`` is a django-fsm machine ``open -> locked -> exported -> paid | partially_paid``;
its transitions are called only from ``claims.finance.services.settlements`` (inside
``transaction.atomic()``), which appends a ``SettlementEvent`` for each change (who, when, why)
next to django-fsm-log's StateLog. A claim is in at most one *active* item (pending or paid),
enforced by a partial unique constraint; a failed or removed item is inactive, so the claim can
join the next batch.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description


class BatchState(models.TextChoices):
    OPEN = "open", _("Open")
    LOCKED = "locked", _("Locked")
    EXPORTED = "exported", _("Exported")
    PAID = "paid", _("Paid")
    PARTIALLY_PAID = "partially_paid", _("Partially paid")


class SettlementBatch(ConcurrentTransitionMixin, models.Model):
    reference = models.CharField(_("reference"), max_length=40, unique=True)
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    state = FSMField(_("state"), default=BatchState.OPEN, choices=BatchState.choices, protected=True, db_index=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # SHA-256 of the CSV export at the moment of export (the file is a pure function of the batch).
    export_sha256 = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("settlement batch")
        verbose_name_plural = _("settlement batches")

    def __str__(self):
        return self.reference

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=BatchState.OPEN, target=BatchState.LOCKED)
    def lock(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=BatchState.LOCKED, target=BatchState.EXPORTED)
    def mark_exported(self, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(
        field=state,
        source=BatchState.EXPORTED,
        target=RETURN_VALUE(BatchState.PAID, BatchState.PARTIALLY_PAID),
    )
    def complete(self, all_paid: bool, by=None, description=None):
        return BatchState.PAID if all_paid else BatchState.PARTIALLY_PAID


class ItemStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REMOVED = "removed", _("Removed")


ACTIVE_STATUSES = (ItemStatus.PENDING, ItemStatus.PAID)


class SettlementItem(models.Model):
    """One claim in one batch, with the amount to pay fixed when it joined."""

    batch = models.ForeignKey(SettlementBatch, on_delete=models.PROTECT, related_name="items")
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="settlement_items")
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    is_active = models.BooleanField(default=True)
    payment_reference = models.CharField(max_length=120, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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

    batch = models.ForeignKey(SettlementBatch, on_delete=models.PROTECT, related_name="imports")
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows = models.PositiveIntegerField(default=0)
    paid = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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


# Events move batches (BatchState) and items (ItemStatus); "paid" means the same in both.
STATE_LABELS = {**dict(ItemStatus.choices), **dict(BatchState.choices)}


class _AppendOnly(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError("The settlement audit trail is append-only.")

    def delete(self):
        raise ValidationError("The settlement audit trail is append-only.")


class SettlementEvent(models.Model):
    """Append-only: who changed what in a batch, when and why."""

    batch = models.ForeignKey(SettlementBatch, on_delete=models.PROTECT, related_name="events")
    item = models.ForeignKey(SettlementItem, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=30, choices=EventAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = _AppendOnly.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.batch_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("The settlement audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("The settlement audit trail is append-only.")

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

    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    # "claim:<id>" or "merchant:<id>:<YYYY-MM>"; with kind it names the document across versions.
    subject_key = models.CharField(max_length=60)
    claim = models.ForeignKey("claims.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey("merchants.Merchant", on_delete=models.PROTECT, related_name="+")
    period = models.DateField(null=True, blank=True, help_text="First day of the month (monthly statements).")
    version = models.PositiveIntegerField()
    template_version = models.CharField(max_length=20)
    reason = models.TextField(blank=True)
    file = models.FileField(upload_to=document_path, max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    pages = models.PositiveIntegerField(default=0)
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
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
    def filename(self) -> str:
        return f"{self.kind}-{self.subject_key.replace(':', '-')}-v{self.version}.pdf"
