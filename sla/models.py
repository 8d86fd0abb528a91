"""SLA contracts (versioned), monthly evaluations (revisioned) and provider credit claims."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.append_only import AppendOnlyModel
from incidents.models import Provider, Service

from . import evaluation as ev

CLAIM_WARNING_DAYS = 7


class ContractLocked(ValidationError):
    """A contract version used by a finalized evaluation cannot be edited in place."""


class SLAContract(models.Model):
    """One version of a provider contract. ``code`` names the lineage, ``version`` the amendment.

    A version used by a finalized evaluation is never edited in place: an amendment is a
    new version with its own effective dates (``save`` refuses the edit).
    """

    # The contract's terms: what an import sets and the API shows, besides code, version,
    # provider and covered services.
    TERM_FIELDS = [
        "currency",
        "monthly_fee",
        "timezone",
        "effective_from",
        "effective_to",
        "availability_target",
        "partial_outage_weight",
        "degraded_weight",
        "maintenance_notice_hours",
        "credit_tiers",
        "credit_cap_percent",
        "recovery_targets",
        "first_response_minutes",
        "first_response_credit_percent",
        "claim_window_days",
        "min_downtime_minutes",
        "min_credit_amount",
        "amendment_reason",
        "availability_method",
        "error_rate_threshold_percent",
        "min_requests_per_window",
        "min_down_run_minutes",
        "quality_targets",
    ]

    class AvailabilityMethod(models.TextChoices):
        INCIDENTS = "incidents", _("Incidents")
        ERROR_RATE_WINDOWS = "error_rate_windows", _("Error-rate windows")
        MEAN_ERROR_RATE = "mean_error_rate", _("Mean error rate")

    code = models.SlugField(_("code"), max_length=60)
    version = models.PositiveIntegerField(_("version"), default=1)
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="sla_contracts", verbose_name=_("provider")
    )
    services = models.ManyToManyField(Service, related_name="sla_contracts", verbose_name=_("covered services"))
    currency = models.CharField(_("currency"), max_length=3)
    monthly_fee = models.DecimalField(_("monthly fee"), max_digits=14, decimal_places=2)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    availability_target = models.DecimalField(_("availability target %"), max_digits=7, decimal_places=4)
    partial_outage_weight = models.DecimalField(_("partial outage weight"), max_digits=5, decimal_places=4)
    degraded_weight = models.DecimalField(_("degraded performance weight"), max_digits=5, decimal_places=4)
    maintenance_notice_hours = models.PositiveIntegerField(_("maintenance notice hours"), default=0)
    credit_tiers = models.JSONField(
        _("credit tiers"), default=list, help_text='[{"below": "99.95", "credit_percent": "10"}]'
    )
    credit_cap_percent = models.DecimalField(_("credit cap %"), max_digits=6, decimal_places=2, default=Decimal("100"))
    recovery_targets = models.JSONField(
        _("recovery targets"),
        default=list,
        help_text='[{"impact": "major_outage", "max_minutes": 30, "credit_percent": "5"}]',
    )
    first_response_minutes = models.PositiveIntegerField(_("first response target minutes"), null=True, blank=True)
    first_response_credit_percent = models.DecimalField(
        _("credit % per first-response breach"), max_digits=6, decimal_places=2, default=Decimal("0")
    )
    claim_window_days = models.PositiveIntegerField(_("claim window days"), default=30)
    min_downtime_minutes = models.PositiveIntegerField(_("minimum downtime period minutes"), default=0)
    min_credit_amount = models.DecimalField(_("minimum credit amount"), max_digits=14, decimal_places=2, default=0)
    amendment_reason = models.TextField(_("amendment reason"), blank=True)
    # Availability from telemetry (README "Provider telemetry"); ``incidents`` keeps rules 1–4.
    availability_method = models.CharField(
        _("availability method"),
        max_length=30,
        choices=AvailabilityMethod.choices,
        default=AvailabilityMethod.INCIDENTS,
    )
    error_rate_threshold_percent = models.DecimalField(
        _("error-rate threshold %"), max_digits=7, decimal_places=4, default=Decimal("0")
    )
    min_requests_per_window = models.PositiveIntegerField(_("minimum requests per window"), default=0)
    min_down_run_minutes = models.PositiveIntegerField(_("minimum down run minutes"), default=0)
    quality_targets = models.JSONField(
        _("quality targets"),
        default=list,
        blank=True,
        help_text='[{"metric": "join_p95_ms", "max": "600", "min_compliance_percent": "99.0", "credit_percent": "5"}]',
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SLA contract")
        verbose_name_plural = _("SLA contracts")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="sla_contract_code_version_unique"),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="sla_contract_effective_order",
            ),
            models.CheckConstraint(
                condition=Q(availability_method__in=["incidents", "error_rate_windows", "mean_error_rate"]),
                name="sla_contract_availability_method_valid",
            ),
            models.CheckConstraint(
                condition=Q(error_rate_threshold_percent__gte=0) & Q(error_rate_threshold_percent__lte=100),
                name="sla_contract_error_rate_threshold_range",
            ),
        ]

    def __str__(self):
        return f"{self.code} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk and self.is_locked():
            raise ContractLocked(
                _("Contract %(c)s is used by a finalized evaluation; amend it with a new version.") % {"c": self}
            )
        super().save(*args, **kwargs)

    def is_locked(self) -> bool:
        return bool(self.pk) and self.evaluations.filter(finalized_at__isnull=False).exists()

    def terms(self) -> ev.Terms:
        return ev.Terms(
            monthly_fee=self.monthly_fee,
            availability_target=self.availability_target,
            partial_outage_weight=self.partial_outage_weight,
            degraded_weight=self.degraded_weight,
            maintenance_notice_hours=self.maintenance_notice_hours,
            credit_tiers=tuple(
                ev.Tier(Decimal(t["below"]), Decimal(t["credit_percent"])) for t in self.credit_tiers or []
            ),
            credit_cap_percent=self.credit_cap_percent,
            recovery_targets=tuple(
                ev.RecoveryTarget(t["impact"], int(t["max_minutes"]), Decimal(t["credit_percent"]))
                for t in self.recovery_targets or []
            ),
            first_response_minutes=self.first_response_minutes,
            first_response_credit_percent=self.first_response_credit_percent,
            claim_window_days=self.claim_window_days,
            min_downtime_minutes=self.min_downtime_minutes,
            min_credit_amount=self.min_credit_amount,
        )

    def telemetry_terms(self):
        from . import telemetry_evaluation as tev

        return tev.TelemetryTerms(
            method=self.availability_method,
            threshold_percent=self.error_rate_threshold_percent,
            min_requests=self.min_requests_per_window,
            min_run_minutes=self.min_down_run_minutes,
            quality_targets=tuple(
                tev.QualityTarget(
                    metric=t["metric"],
                    limit=Decimal(t["max"] if "max" in t else t["min"]),
                    is_max="max" in t,
                    min_compliance_percent=Decimal(t["min_compliance_percent"]),
                    credit_percent=Decimal(t["credit_percent"]),
                )
                for t in self.quality_targets or []
            ),
        )


class SnapshotJSONField(models.JSONField):
    """A JSONField that opts out of Django 5.2's UNNEST bulk insert on PostgreSQL.

    UNNEST sends every value inside one array parameter, which psycopg quotes in Python
    character by character: for snapshots of hundreds of kilobytes that costs seconds.
    A per-value placeholder keeps the plain multi-row ``INSERT ... VALUES``.
    """

    def get_placeholder(self, value, compiler, connection):
        return "%s"


class SLAEvaluation(models.Model):
    """A snapshot of one contract lineage (``contract_code``) for one month.

    While the month runs (or an incident in it is open) the current revision is
    recomputed in place; once finalized it never changes. A correction creates a new
    revision with its reason and makes it the current one.
    """

    contract = models.ForeignKey(
        SLAContract, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("contract version")
    )
    contract_code = models.SlugField(_("contract code"), max_length=60, db_index=True)
    period = models.DateField(_("period (first day of month)"))
    revision = models.PositiveIntegerField(_("revision"), default=1)
    is_current = models.BooleanField(_("current revision"), default=True)
    reason = models.TextField(_("reason for revision"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("created by")
    )
    evaluated_at = models.DateTimeField(_("evaluated at"))
    finalized_at = models.DateTimeField(_("finalized at"), null=True, blank=True)
    provisional = models.BooleanField(_("provisional"), default=True)
    outdated = models.BooleanField(
        _("outdated"), default=False, help_text=_("Finalized, but today's data gives other figures: correct it.")
    )
    eligible_minutes = models.DecimalField(_("eligible minutes"), max_digits=14, decimal_places=2)
    excluded_minutes = models.DecimalField(_("excluded minutes"), max_digits=14, decimal_places=2)
    downtime_minutes = models.DecimalField(_("weighted downtime minutes"), max_digits=14, decimal_places=2)
    availability_percent = models.DecimalField(_("availability %"), max_digits=8, decimal_places=4)
    availability_target = models.DecimalField(_("availability target %"), max_digits=7, decimal_places=4)
    tier_credit_percent = models.DecimalField(_("tier credit %"), max_digits=8, decimal_places=2)
    credit_percent = models.DecimalField(_("credit %"), max_digits=8, decimal_places=2)
    credit_amount = models.DecimalField(_("credit amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    claim_deadline = models.DateField(_("claim deadline"))
    recovery_breaches = models.JSONField(_("recovery breaches"), default=list)
    response_breaches = models.JSONField(_("first-response breaches"), default=list)
    details = SnapshotJSONField(
        _("details"), default=dict, help_text=_("Incidents, maintenance windows and intermediate figures.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("SLA evaluation")
        verbose_name_plural = _("SLA evaluations")
        ordering = ["-period", "contract_code", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract_code", "period", "revision"], name="sla_evaluation_code_period_revision_unique"
            ),
            models.UniqueConstraint(
                fields=["contract_code", "period"], condition=Q(is_current=True), name="sla_evaluation_one_current"
            ),
        ]

    def __str__(self):
        return f"{self.contract_code} {self.period_label} r{self.revision}"

    @property
    def period_label(self) -> str:
        return f"{self.period:%Y-%m}"

    @property
    def is_final(self) -> bool:
        return self.finalized_at is not None

    @property
    def meets_target(self) -> bool:
        return self.availability_percent >= self.availability_target


class CreditClaimState(models.TextChoices):
    DUE = "due", _("Due")
    FILED = "filed", _("Filed")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CREDITED = "credited", _("Credited")
    REJECTED = "rejected", _("Rejected")


class ProviderCreditClaim(ConcurrentTransitionMixin, models.Model):
    """The service credit the platform claims from a provider for one contract month.

    ``due -> filed -> acknowledged -> credited | rejected``; transitions are called from
    ``sla.services`` only, inside ``transaction.atomic()``, and logged by django-fsm-log.
    """

    evaluation = models.ForeignKey(
        SLAEvaluation, on_delete=models.PROTECT, related_name="credit_claims", verbose_name=_("evaluation")
    )
    contract_code = models.SlugField(_("contract code"), max_length=60)
    period = models.DateField(_("period (first day of month)"))
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="sla_credit_claims", verbose_name=_("provider")
    )
    state = FSMField(_("state"), default=CreditClaimState.DUE, choices=CreditClaimState.choices, protected=True)
    currency = models.CharField(_("currency"), max_length=3)
    amount_claimed = models.DecimalField(_("amount claimed"), max_digits=14, decimal_places=2)
    amount_received = models.DecimalField(_("amount received"), max_digits=14, decimal_places=2, null=True, blank=True)
    claim_deadline = models.DateField(_("claim deadline"))
    provider_reference = models.CharField(_("provider reference"), max_length=120, blank=True)
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("provider credit claim")
        verbose_name_plural = _("provider credit claims")
        ordering = ["claim_deadline", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract_code", "period"], name="sla_credit_claim_one_per_month"),
        ]

    def __str__(self):
        return f"{self.contract_code} {self.period:%Y-%m} {self.state}"

    @property
    def days_to_deadline(self) -> int:
        return (self.claim_deadline - timezone.localdate()).days

    @property
    def deadline_warning(self) -> bool:
        """Not filed yet and the claim deadline is within 7 days (or passed)."""
        return self.state == CreditClaimState.DUE and self.days_to_deadline <= CLAIM_WARNING_DAYS

    @property
    def credit_figures(self):
        """Due / filed / received / written off / still due, as ``sla.selectors.credit_status`` defines them."""
        from .selectors import claim_credit_status

        return claim_credit_status(claim=self)

    @property
    def outstanding(self) -> Decimal:
        return self.credit_figures.still_due

    @transition(field=state, source=CreditClaimState.DUE, target=CreditClaimState.FILED)
    def file(self, at, reference=""):
        self.filed_at = at
        if reference:
            self.provider_reference = reference

    @transition(field=state, source=CreditClaimState.FILED, target=CreditClaimState.ACKNOWLEDGED)
    def acknowledge(self, at, reference=""):
        self.acknowledged_at = at
        if reference:
            self.provider_reference = reference

    @transition(field=state, source=CreditClaimState.ACKNOWLEDGED, target=CreditClaimState.CREDITED)
    def credit(self, at, amount):
        self.amount_received = amount
        self.closed_at = at

    @transition(field=state, source=CreditClaimState.ACKNOWLEDGED, target=CreditClaimState.REJECTED)
    def reject(self, at, reason):
        self.rejection_reason = reason
        self.amount_received = Decimal("0.00")
        self.closed_at = at


def grace() -> timedelta:
    """How long after a month ends its evaluation stays open for late incident edits."""
    return timedelta(days=getattr(settings, "SLA_FINALIZE_GRACE_DAYS", 0))


class ProviderCreditClaimEvent(AppendOnlyModel):
    """One change of a credit claim (who, when, from, to, why, how much): its only audit trail."""

    claim = models.ForeignKey(
        ProviderCreditClaim, on_delete=models.PROTECT, related_name="events", verbose_name=_("credit claim")
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("by"),
    )
    action = models.CharField(_("action"), max_length=20)
    from_state = models.CharField(_("from"), max_length=20)
    to_state = models.CharField(_("to"), max_length=20)
    message = models.TextField(_("message"), blank=True)
    reference = models.CharField(_("provider reference"), max_length=120, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("credit claim event")
        verbose_name_plural = _("credit claim events")

    def __str__(self):
        return f"{self.claim_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    @property
    def from_label(self) -> str:
        return str(CreditClaimState(self.from_state).label)

    @property
    def to_label(self) -> str:
        return str(CreditClaimState(self.to_state).label)


class BudgetAlert(models.Model):
    """Support and finance were told that a contract's month is heading into a credit tier.

    One row per contract code, month and tier (``tier_below``), so a projection that stays in
    the tier does not notify again; a worse tier later notifies once more.
    """

    contract_code = models.SlugField(_("contract code"), max_length=60)
    period = models.DateField(_("period (first day of month)"))
    tier_below = models.DecimalField(_("tier: availability below %"), max_digits=7, decimal_places=4)
    projected_availability_percent = models.DecimalField(_("projected availability %"), max_digits=8, decimal_places=4)
    projected_credit_percent = models.DecimalField(_("projected credit %"), max_digits=8, decimal_places=2)
    projected_credit_amount = models.DecimalField(_("projected credit amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    budget_left_minutes = models.DecimalField(_("error budget left (minutes)"), max_digits=14, decimal_places=2)
    fast_burn_rate = models.DecimalField(_("fast burn rate (1 h)"), max_digits=12, decimal_places=2)
    slow_burn_rate = models.DecimalField(_("slow burn rate (6 h)"), max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("error budget alert")
        verbose_name_plural = _("error budget alerts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["contract_code", "period", "tier_below"], name="sla_budget_alert_unique")
        ]

    def __str__(self):
        return f"{self.contract_code} {self.period:%Y-%m} < {self.tier_below}"
