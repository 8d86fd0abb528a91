"""Losses: the versioned loss policy and the engine's stored assessments.

Written only by ``losses`` services; the claim workflow (``claims``) builds on ``LossAssessment``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]
RATE = [MinValueValidator(0), MaxValueValidator(1)]


class CompensationPolicy(models.Model):
    """One version of the loss policy. Exactly one version is active; a used version is never edited.

    Editing in the admin saves a new version (``losses.policy.publish_policy``) which becomes
    the active one; assessments keep pointing at the version they were computed with.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=120, default="Default loss policy")
    is_active = models.BooleanField(_("active"), default=False)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")

    class LossModel(models.IntegerChoices):
        FLAT_BASELINE = 1, _("v1: minute-by-minute gaps under a flat baseline")
        NET_SHORTFALL = 2, _("v2: net shortfall against the session's own profile")

    loss_model = models.PositiveSmallIntegerField(
        _("loss model"), choices=LossModel.choices, default=LossModel.FLAT_BASELINE
    )
    # v2: fewest unaffected past sessions of the merchant a profile is learned from.
    profile_min_sessions = models.PositiveIntegerField(_("profile minimum sessions"), default=3)
    # 1. Affected minutes.
    recovery_tail_minutes = models.PositiveIntegerField(_("recovery tail (minutes)"), default=10)
    # 2. Baselines.
    pre_incident_window_minutes = models.PositiveIntegerField(_("pre-incident window (minutes)"), default=30)
    pre_incident_min_minutes = models.PositiveIntegerField(_("pre-incident minimum minutes"), default=10)
    historical_days = models.PositiveIntegerField(_("historical window (days)"), default=28)
    historical_min_minutes = models.PositiveIntegerField(_("historical minimum minutes"), default=60)
    # 4. Margin.
    default_margin_rate = models.DecimalField(
        _("default margin rate"), max_digits=5, decimal_places=4, default=Decimal("0.3000"), validators=RATE
    )
    max_margin_rate = models.DecimalField(
        _("margin rate cap"), max_digits=5, decimal_places=4, default=Decimal("0.6000"), validators=RATE
    )
    # 6. Responsibility by cause, in percent.
    responsibility_provider = models.DecimalField(
        _("responsibility: provider (%)"), max_digits=5, decimal_places=2, default=Decimal("100"), validators=PERCENT
    )
    responsibility_platform = models.DecimalField(
        _("responsibility: platform (%)"), max_digits=5, decimal_places=2, default=Decimal("100"), validators=PERCENT
    )
    responsibility_third_party = models.DecimalField(
        _("responsibility: third party (%)"), max_digits=5, decimal_places=2, default=Decimal("50"), validators=PERCENT
    )
    responsibility_unknown = models.DecimalField(
        _("responsibility: unknown (%)"), max_digits=5, decimal_places=2, default=Decimal("100"), validators=PERCENT
    )
    responsibility_merchant = models.DecimalField(
        _("responsibility: merchant (%)"), max_digits=5, decimal_places=2, default=Decimal("0"), validators=PERCENT
    )
    # 7. and 8. Caps.
    claim_cap = models.DecimalField(_("cap per claim"), max_digits=14, decimal_places=2, default=Decimal("50000.00"))
    incident_pool = models.DecimalField(
        _("pool per incident"), max_digits=14, decimal_places=2, default=Decimal("1000000.00")
    )
    notes = models.TextField(_("notes"), blank=True)
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        editable=False,
        verbose_name=_("previous version"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("compensation policy")
        verbose_name_plural = _("compensation policies")
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_policy"),
            models.CheckConstraint(
                condition=Q(claim_cap__gte=0) & Q(incident_pool__gte=0), name="policy_caps_non_negative"
            ),
        ]

    def __str__(self):
        return f"v{self.version} {self.name}"

    def responsibility_for(self, cause: str) -> Decimal:
        return getattr(self, f"responsibility_{cause}", self.responsibility_unknown)

    @property
    def is_used(self) -> bool:
        return self.pk is not None and self.assessments.exists()


class LossAssessment(models.Model):
    """What one merchant lost in one incident, computed once under one policy version.

    Each computation stores a new row; the previous current one is kept with
    ``is_current=False`` and ``superseded_by`` pointing at the new one. A recomputation
    whose inputs fingerprint is unchanged keeps the current row as it is.
    """

    class Flag(models.TextChoices):
        INSUFFICIENT_DATA = "insufficient_data", _("Insufficient data (manual review)")
        UNKNOWN_CAUSE = "unknown_cause", _("Unknown cause (review)")
        NOT_ELIGIBLE = "not_eligible", _("Not eligible (merchant's own cause)")
        CAPPED = "capped", _("Capped per claim")
        POOL_SCALED = "pool_scaled", _("Scaled to the incident pool")
        ONGOING = "ongoing", _("Incident still open: provisional")
        CURRENCY_MISMATCH = "currency_mismatch", _("Merchant currency differs from the policy's")
        WITHIN_NOISE = "within_noise", _("Shortfall within the noise band: pays 0")

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.PROTECT, related_name="loss_assessments", verbose_name=_("incident")
    )
    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.PROTECT, related_name="loss_assessments", verbose_name=_("merchant")
    )
    policy = models.ForeignKey(
        CompensationPolicy,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("compensation policy"),
    )
    currency = models.CharField(_("currency"), max_length=3)
    cause = models.CharField(_("cause"), max_length=20)
    margin_rate = models.DecimalField(_("margin rate applied"), max_digits=5, decimal_places=4)
    responsibility_percent = models.DecimalField(_("responsibility (%)"), max_digits=5, decimal_places=2)
    # Sums over the lines, unrounded (shown to 4 places); compensation figures are in cents.
    lost_gmv = models.DecimalField(_("lost GMV"), max_digits=24, decimal_places=6, default=0)
    lost_profit = models.DecimalField(_("lost profit"), max_digits=24, decimal_places=6, default=0)
    wasted_ad_spend = models.DecimalField(_("wasted ad spend"), max_digits=24, decimal_places=6, default=0)
    compensation_before_pool = models.DecimalField(_("compensation before pool"), max_digits=14, decimal_places=2)
    compensation = models.DecimalField(_("compensation"), max_digits=14, decimal_places=2)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    # Everything the figures were computed from (incident window, policy values, per-session
    # aggregates, incident total before pool), and its SHA-256 over canonical JSON.
    inputs = models.JSONField(_("inputs"), default=dict)
    inputs_fingerprint = models.CharField(_("inputs fingerprint"), max_length=64, db_index=True)
    computed_at = models.DateTimeField(_("computed at"))
    # When this (incident, merchant) was first assessed: earlier claims keep shared minutes.
    first_computed_at = models.DateTimeField(_("first computed at"))
    is_current = models.BooleanField(_("current"), default=True)
    superseded_by = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="supersedes",
        verbose_name=_("superseded by"),
    )

    class Meta:
        ordering = ["-computed_at", "-id"]
        verbose_name = _("loss assessment")
        verbose_name_plural = _("loss assessments")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "merchant"], condition=Q(is_current=True), name="one_current_assessment"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "is_current"], name="assessment_merchant_idx")]

    def __str__(self):
        return f"{self.incident_id}/{self.merchant_id} {self.compensation} {self.currency}"

    @property
    def needs_review(self) -> bool:
        return bool({self.Flag.INSUFFICIENT_DATA, self.Flag.UNKNOWN_CAUSE} & set(self.flags))


class LossAssessmentLine(models.Model):
    """One hit live session of an assessment, with the figures and the inputs behind them."""

    class BaselineMethod(models.TextChoices):
        PRE_INCIDENT = "pre_incident", _("Same session before the incident")
        HISTORICAL = "historical", _("Merchant's sessions of the previous days")
        PROFILE_SCALED = "profile_scaled", _("Merchant's session profile, scaled to this session")
        PROFILE = "profile", _("Merchant's session profile, platform-calibrated")
        INSUFFICIENT_DATA = "insufficient_data", _("Insufficient data")

    assessment = models.ForeignKey(
        LossAssessment, on_delete=models.CASCADE, related_name="lines", verbose_name=_("loss assessment")
    )
    session = models.ForeignKey(
        "merchants.LiveSession", on_delete=models.PROTECT, related_name="loss_lines", verbose_name=_("live session")
    )
    # Affected window: [window_start, window_end) in whole UTC minutes.
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))
    affected_minutes = models.PositiveIntegerField(_("affected minutes"))
    excluded_minutes = models.PositiveIntegerField(
        _("minutes already compensated"),
        default=0,
        help_text=_("Claimed by an earlier assessment of another incident."),
    )
    minutes_with_data = models.PositiveIntegerField(_("minutes with data"))
    data_coverage = models.DecimalField(_("data coverage"), max_digits=5, decimal_places=4)
    baseline_method = models.CharField(_("baseline method"), max_length=20, choices=BaselineMethod.choices)
    baseline_minutes = models.PositiveIntegerField(_("baseline minutes"), default=0)
    baseline_gmv_sum = models.DecimalField(_("baseline GMV sum"), max_digits=18, decimal_places=2, default=0)
    baseline_gmv_per_minute = models.DecimalField(_("baseline GMV per minute"), max_digits=24, decimal_places=6)
    actual_gmv = models.DecimalField(_("actual GMV"), max_digits=18, decimal_places=2)
    ad_spend = models.DecimalField(_("ad spend"), max_digits=18, decimal_places=2, default=0)
    lost_gmv = models.DecimalField(_("lost GMV"), max_digits=24, decimal_places=6)
    lost_profit = models.DecimalField(_("lost profit"), max_digits=24, decimal_places=6)
    wasted_ad_spend = models.DecimalField(_("wasted ad spend"), max_digits=24, decimal_places=6)
    # Loss model v2 (empty under v1): the counterfactual and its 90 % interval.
    expected_gmv = models.DecimalField(_("expected GMV"), max_digits=24, decimal_places=6, null=True, blank=True)
    net_shortfall = models.DecimalField(_("net shortfall"), max_digits=24, decimal_places=6, null=True, blank=True)
    shortfall_low = models.DecimalField(
        _("net shortfall, 90 % low"), max_digits=24, decimal_places=6, null=True, blank=True
    )
    shortfall_high = models.DecimalField(
        _("net shortfall, 90 % high"), max_digits=24, decimal_places=6, null=True, blank=True
    )
    profile_sessions = models.PositiveIntegerField(_("profile sessions"), default=0)
    within_noise = models.BooleanField(_("within noise"), default=False)

    class Meta:
        ordering = ["assessment", "window_start", "id"]
        verbose_name = _("loss assessment line")
        verbose_name_plural = _("loss assessment lines")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "session"], name="assessment_line_unique_session"),
        ]

    def __str__(self):
        return f"{self.assessment_id}/{self.session_id} {self.lost_gmv}"
