"""Merchants, the users who act for them, their live sessions and per-minute session metrics.

This app depends on no other app of ours: a live session stores the service code and the
region code it used as plain strings, and impact matching (in ``claims``) joins on codes.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

PAYOUT_FIELDS = ("payout_account_name", "payout_bank", "payout_account_number")


def missing_payout_details(prefix: str = "") -> Q:
    """Merchants (through ``prefix``, e.g. ``"merchant__"``) that cannot be paid yet: a payout field is
    empty (the service stores them stripped). The one rule the batch lock and the portal prompts use."""
    missing = Q()
    for name in PAYOUT_FIELDS:
        missing |= Q(**{f"{prefix}{name}": ""})
    return missing


def mask_account(number: str) -> str:
    """An account number as pages and histories show it: its last four characters only."""
    return f"•••• {number[-4:]}" if number else ""


class Merchant(models.Model):
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    timezone = models.CharField(_("time zone"), max_length=60, default="Asia/Shanghai")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    # Declared gross margin (0.3 = 30 %). Empty: the compensation policy's default applies.
    margin_rate = models.DecimalField(
        _("declared margin rate"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    # Where the merchant's compensation is paid; its administrators change it in the portal.
    payout_account_name = models.CharField(_("payout account holder"), max_length=200, blank=True)
    payout_bank = models.CharField(_("payout bank"), max_length=200, blank=True)
    payout_account_number = models.CharField(_("payout account number"), max_length=34, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="merchants", verbose_name=_("members")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def masked_payout_account_number(self) -> str:
        return mask_account(self.payout_account_number)

    @property
    def has_payout_details(self) -> bool:
        """Every payout field is filled in: a payment to this merchant can be made."""
        return all(getattr(self, f) for f in PAYOUT_FIELDS)


class Membership(models.Model):
    """A user acting for a merchant. A user may belong to several merchants."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("merchant")
    )
    is_admin = models.BooleanField(
        _("merchant administrator"), default=False, help_text=_("May change the merchant's payout details.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique")]

    def __str__(self):
        return f"{self.user} @ {self.merchant.code}"


class LiveSession(models.Model):
    """One live stream of a merchant, on one provider service in one region."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("merchant")
    )
    external_id = models.CharField(_("session id"), max_length=120, unique=True)
    service_code = models.CharField(_("service"), max_length=60, db_index=True)
    region_code = models.CharField(_("region"), max_length=40, db_index=True)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True, help_text=_("Empty while live."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-started_at", "id"]
        verbose_name = _("live session")
        verbose_name_plural = _("live sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gt=F("started_at")),
                name="live_session_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["service_code", "region_code", "started_at"], name="live_session_match_idx"),
            models.Index(fields=["merchant", "started_at"], name="live_session_merchant_idx"),
        ]

    def __str__(self):
        return f"{self.external_id} ({self.service_code}/{self.region_code})"


class SessionMinute(models.Model):
    """The metrics of one session in one UTC minute (``minute`` = the minute's start).

    The platform's largest table (10⁸ rows a day), so it carries no index and no check that
    does not pay for itself: the (session, minute) primary key is the only index and serves
    every lookup by session (a surrogate ``id`` would be a second index on every insert), and
    the session reference is not a database foreign key, whose per-row check doubled the cost
    of a bulk import. Only the importer writes rows, and only for sessions it has just looked
    up; deleting a session through Django still deletes its minutes.

    On PostgreSQL the table is partitioned by day on ``minute`` (``merchants.partitions``), so
    a loss estimate reads only the days it needs and old days are dropped whole; a partitioned
    table's primary key must contain the partition key, which this one does.
    """

    pk = models.CompositePrimaryKey("session", "minute")

    session = models.ForeignKey(
        LiveSession,
        on_delete=models.CASCADE,
        related_name="minutes",
        verbose_name=_("live session"),
        db_index=False,
        db_constraint=False,
    )
    minute = models.DateTimeField(_("minute"))
    viewers = models.PositiveIntegerField(_("concurrent viewers"), default=0)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    gmv = models.DecimalField(_("GMV"), max_digits=14, decimal_places=2, default=0)
    ad_spend = models.DecimalField(_("ad spend"), max_digits=14, decimal_places=2, default=0)

    class Meta:
        ordering = ["session", "minute"]
        verbose_name = _("session minute")
        verbose_name_plural = _("session minutes")
        constraints = [
            models.CheckConstraint(condition=Q(gmv__gte=0) & Q(ad_spend__gte=0), name="session_minute_non_negative"),
        ]

    def __str__(self):
        return f"{self.session_id} {self.minute:%Y-%m-%d %H:%M}"
