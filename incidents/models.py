"""Outage records: providers, their services, regions, incidents and maintenance windows.

This app depends on nothing else of ours; other apps listen to
``incidents.signals.incident_changed`` to react when an incident changes.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from core.append_only import AppendOnlyModel


class Provider(models.Model):
    class Kind(models.TextChoices):
        RTC = "rtc", _("Real-time video")
        CDN = "cdn", _("CDN")
        PLATFORM = "platform", _("Platform")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)

    class Meta:
        verbose_name = _("provider")
        verbose_name_plural = _("providers")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Service(models.Model):
    """A component of a provider, e.g. ``rtc-video`` or ``cdn-live``."""

    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="services", verbose_name=_("provider")
    )
    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["code"]

    def __str__(self):
        return self.code


class Region(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]

    def __str__(self):
        return self.code


class Impact(models.TextChoices):
    MAJOR_OUTAGE = "major_outage", _("Major outage")
    PARTIAL_OUTAGE = "partial_outage", _("Partial outage")
    DEGRADED_PERFORMANCE = "degraded_performance", _("Degraded performance")


class Cause(models.TextChoices):
    PROVIDER = "provider", _("Provider")
    PLATFORM = "platform", _("Platform")
    MERCHANT = "merchant", _("Merchant")
    THIRD_PARTY = "third_party", _("Third party")
    UNKNOWN = "unknown", _("Unknown")


class IncidentState(models.TextChoices):
    DETECTED = "detected", _("Detected")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    MITIGATED = "mitigated", _("Mitigated")
    RESOLVED = "resolved", _("Resolved")
    VOIDED = "voided", _("Voided")


OPEN_STATES = [IncidentState.DETECTED, IncidentState.ACKNOWLEDGED, IncidentState.MITIGATED]


def state_label(value: str) -> str:
    """The translated label of an incident state code ("" for empty, the code itself if unknown)."""
    if not value:
        return ""
    try:
        return str(IncidentState(value).label)
    except ValueError:
        return value


def impact_label(value: str) -> str:
    """The translated label of an impact code ("" for empty, the code itself if unknown)."""
    if not value:
        return ""
    try:
        return str(Impact(value).label)
    except ValueError:
        return value


def _ordered(later: str, earlier: str) -> Q:
    """``later`` is empty or not before ``earlier`` (which may itself be empty)."""
    return Q(**{f"{later}__isnull": True}) | Q(**{f"{earlier}__isnull": True}) | Q(**{f"{later}__gte": F(earlier)})


class Incident(ConcurrentTransitionMixin, models.Model):
    """An outage of one provider service in one or more regions.

    The lifecycle runs ``detected -> acknowledged -> mitigated -> resolved`` (steps may be
    skipped forward, as monitoring often reports a recovery directly), with ``voided`` for
    false alarms from any open state. Transitions are called only from
    ``incidents.services`` so that each one lands in the ``IncidentUpdate`` timeline.
    """

    source = models.CharField(_("source"), max_length=60)
    external_id = models.CharField(_("external id"), max_length=120)
    title = models.CharField(_("title"), max_length=255)
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("service"))
    regions = models.ManyToManyField(Region, related_name="incidents", verbose_name=_("regions"))
    impact = models.CharField(_("impact"), max_length=30, choices=Impact.choices)
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices, default=Cause.UNKNOWN)
    state = FSMField(_("state"), default=IncidentState.DETECTED, choices=IncidentState.choices, protected=True)
    started_at = models.DateTimeField(_("started at"))
    detected_at = models.DateTimeField(_("detected at"))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    mitigated_at = models.DateTimeField(_("mitigated at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    # The sender's own "last updated" time: an older update arriving later is ignored.
    source_updated_at = models.DateTimeField(_("updated at (source)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="incident_source_external_id_unique"),
            models.CheckConstraint(condition=Q(detected_at__gte=F("started_at")), name="incident_detected_after_start"),
            models.CheckConstraint(
                condition=_ordered("acknowledged_at", "detected_at"), name="incident_ack_after_detect"
            ),
            models.CheckConstraint(
                condition=_ordered("mitigated_at", "started_at"), name="incident_mitigated_after_start"
            ),
            models.CheckConstraint(
                condition=_ordered("resolved_at", "started_at"), name="incident_resolved_after_start"
            ),
            models.CheckConstraint(
                condition=(Q(state=IncidentState.RESOLVED) & Q(resolved_at__isnull=False))
                | (~Q(state=IncidentState.RESOLVED) & Q(resolved_at__isnull=True)),
                name="incident_resolved_at_iff_resolved",
            ),
        ]
        indexes = [
            models.Index(fields=["service", "started_at"]),
            models.Index(fields=["state"]),
        ]

    def __str__(self):
        return f"{self.source}:{self.external_id} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def key(self) -> str:
        return f"{self.source}:{self.external_id}"

    def duration(self, now=None):
        """Time from start to resolution (or to ``now`` while ongoing)."""
        from django.utils import timezone

        end = self.resolved_at or now or timezone.now()
        return end - self.started_at

    # Transitions. ``by`` and ``description`` are recorded by django-fsm-log.
    @transition(field=state, source=IncidentState.DETECTED, target=IncidentState.ACKNOWLEDGED)
    def acknowledge(self, at, by=None, description=None):
        self.acknowledged_at = at

    @transition(
        field=state, source=[IncidentState.DETECTED, IncidentState.ACKNOWLEDGED], target=IncidentState.MITIGATED
    )
    def mitigate(self, at, by=None, description=None):
        self.mitigated_at = at

    @transition(field=state, source=OPEN_STATES, target=IncidentState.RESOLVED)
    def resolve(self, at, by=None, description=None):
        self.resolved_at = at

    @transition(field=state, source=OPEN_STATES, target=IncidentState.VOIDED)
    def void(self, at, by=None, description=None):
        pass


class IncidentUpdate(AppendOnlyModel):
    """One entry of an incident's timeline: who changed what, when and why.

    Append-only (Python and a PostgreSQL trigger); an incident with a timeline cannot be
    deleted, and neither can a user who wrote one (deactivate the user instead).
    """

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        TRANSITION = "transition", _("State change")
        EDITED = "edited", _("Edited")
        NOTE = "note", _("Note")

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="updates", verbose_name=_("incident"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    from_state = models.CharField(_("from state"), max_length=20, blank=True)
    to_state = models.CharField(_("to state"), max_length=20, blank=True)
    message = models.TextField(_("message"), blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    origin = models.CharField(_("origin"), max_length=40, help_text=_("webhook, csv, console, ..."))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("actor")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("incident update")
        verbose_name_plural = _("incident updates")
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.incident_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def from_state_label(self) -> str:
        return state_label(self.from_state)

    @property
    def to_state_label(self) -> str:
        return state_label(self.to_state)

    @property
    def origin_label(self) -> str:
        """Where a change without a signed-in actor came from, in words."""
        kind, _sep, name = self.origin.partition(":")
        labels = {
            "webhook": _("Monitoring webhook"),
            "csv": _("CSV import"),
            "console": _("Staff console"),
            "api": _("API"),
            "demo": _("Demo data"),
            "alertmanager": _("Alertmanager"),
            "grafana": _("Grafana"),
        }
        label = str(labels.get(kind, self.origin))
        return _("%(source)s (%(name)s)") % {"source": label, "name": name} if name else label


class MaintenanceWindow(models.Model):
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="maintenance_windows", verbose_name=_("service")
    )
    regions = models.ManyToManyField(Region, related_name="maintenance_windows", verbose_name=_("regions"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    announced_at = models.DateTimeField(_("announced at"))
    description = models.CharField(_("description"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="maintenance_ends_after_start"),
            models.UniqueConstraint(fields=["service", "starts_at", "ends_at"], name="maintenance_unique_window"),
        ]

    def __str__(self):
        return f"{self.service} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class WebhookSource(models.Model):
    """A monitoring system allowed to post incidents, with its own signing secret."""

    name = models.SlugField(_("name"), max_length=60, unique=True)
    secret = models.CharField(_("signing secret"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook source")
        verbose_name_plural = _("webhook sources")

    def __str__(self):
        return self.name


def default_impact_values() -> dict:
    return {
        "critical": Impact.MAJOR_OUTAGE,
        "warning": Impact.PARTIAL_OUTAGE,
        "info": Impact.DEGRADED_PERFORMANCE,
    }


class AlertSource(models.Model):
    """An Alertmanager or Grafana posting alert notifications to its own receiver URL.

    The mapping fields say which alert labels name the service, the region(s), the impact
    and the cause; an alert they cannot place is kept as an unmapped ``ReceivedAlert``
    for staff rather than dropped. The name becomes the incidents' ``source``.
    """

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
        GRAFANA = "grafana", _("Grafana alerting")

    class Auth(models.TextChoices):
        BEARER = "bearer", _("Bearer token")
        BASIC = "basic", _("Basic auth")
        NONE = "none", _("None (Grafana HMAC signature only)")

    # Followed in the setting history (admin and API); the secrets only as "changed".
    HISTORY_FIELDS = (
        "is_active",
        "auth",
        "username",
        "token",
        "hmac_secret",
        "timestamp_header",
        "service_label",
        "service_values",
        "region_label",
        "region_values",
        "impact_label",
        "impact_values",
        "cause_label",
        "default_cause",
    )
    SECRET_FIELDS = ("token", "hmac_secret")

    name = models.SlugField(_("name"), max_length=60, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.ALERTMANAGER)
    is_active = models.BooleanField(_("active"), default=True)
    auth = models.CharField(_("authentication"), max_length=10, choices=Auth.choices, default=Auth.BEARER)
    username = models.CharField(_("basic auth username"), max_length=100, blank=True)
    token = models.CharField(
        _("token or password"), max_length=200, blank=True, help_text=_("The bearer token or the basic auth password.")
    )
    hmac_secret = models.CharField(
        _("HMAC secret"), max_length=200, blank=True, help_text=_("Grafana only: verify the HMAC-SHA256 signature.")
    )
    hmac_header = models.CharField(_("signature header"), max_length=100, default="X-Grafana-Alerting-Signature")
    timestamp_header = models.CharField(
        _("timestamp header"),
        max_length=100,
        blank=True,
        help_text=_("Grafana's timestamp header, when its contact point sets one (recommended: it stops replays)."),
    )
    service_label = models.CharField(_("service label"), max_length=100, default="service")
    service_values = models.JSONField(
        _("service values"), default=dict, blank=True, help_text=_("Label value → service code, where they differ.")
    )
    region_label = models.CharField(
        _("region label"), max_length=100, default="region", help_text=_("Several regions: separate them by , or ;")
    )
    region_values = models.JSONField(
        _("region values"), default=dict, blank=True, help_text=_("Label value → region code, where they differ.")
    )
    impact_label = models.CharField(_("impact label"), max_length=100, default="severity")
    impact_values = models.JSONField(
        _("impact values"), default=default_impact_values, help_text=_("Label value → impact.")
    )
    cause_label = models.CharField(_("cause label"), max_length=100, blank=True, default="cause")
    default_cause = models.CharField(_("default cause"), max_length=20, choices=Cause.choices, default=Cause.UNKNOWN)
    truncated_alerts = models.PositiveIntegerField(
        _("alerts left out by the sender"),
        default=0,
        help_text=_("Sum of truncatedAlerts received: raise or remove the sender's max_alerts when this grows."),
    )
    last_received_at = models.DateTimeField(_("last notification"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert source")
        verbose_name_plural = _("alert sources")
        ordering = ["name"]
        constraints = [
            # Every receiver authenticates: a secret to compare, or a signature to verify.
            models.CheckConstraint(
                condition=(Q(auth="bearer") & ~Q(token=""))
                | (Q(auth="basic") & ~Q(username="") & ~Q(token=""))
                | (Q(auth="none") & Q(kind="grafana") & ~Q(hmac_secret="")),
                name="alert_source_authenticates",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """Refuse a source that could not authenticate or whose mapping names unknown codes."""
        from django.core.exceptions import ValidationError

        errors = {}
        if self.auth in (self.Auth.BEARER, self.Auth.BASIC) and not self.token:
            errors["token"] = _("Required for bearer and basic authentication.")
        if self.auth == self.Auth.BASIC and not self.username:
            errors["username"] = _("Required for basic authentication.")
        if self.auth == self.Auth.NONE and (self.kind != self.Kind.GRAFANA or not self.hmac_secret):
            errors["auth"] = _(
                "Without a token or password, only a Grafana source with an HMAC secret is authenticated."
            )
        for field, model, choices in [
            ("service_values", Service, None),
            ("region_values", Region, None),
            ("impact_values", None, Impact.values),
        ]:
            mapping = getattr(self, field)
            if not isinstance(mapping, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
            ):
                errors[field] = _("Must be a JSON object of label value to code.")
                continue
            if choices:
                known = set(choices)
            else:
                known = set(model.objects.filter(code__in=mapping.values()).values_list("code", flat=True))
            unknown = sorted(set(mapping.values()) - known)
            if unknown:
                errors[field] = _("Unknown code(s): %(codes)s") % {"codes": ", ".join(unknown)}
        if errors:
            raise ValidationError(errors)


class ReceivedAlert(models.Model):
    """One alert as its sender identifies it (fingerprint + start), kept whether or not the
    mapping could place it. A re-fire after resolution starts anew, so it is a new row."""

    class Status(models.TextChoices):
        FIRING = "firing", _("Firing")
        RESOLVED = "resolved", _("Resolved")

    source = models.ForeignKey(
        AlertSource, on_delete=models.PROTECT, related_name="alerts", verbose_name=_("alert source")
    )
    fingerprint = models.CharField(_("fingerprint"), max_length=64)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    title = models.CharField(_("title"), max_length=255)
    labels = models.JSONField(_("labels"), default=dict)
    annotations = models.JSONField(_("annotations"), default=dict, blank=True)
    group_key = models.CharField(_("group key"), max_length=500, blank=True)
    incident = models.ForeignKey(
        Incident,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
        verbose_name=_("incident"),
    )
    problem = models.CharField(_("why it is unmapped"), max_length=500, blank=True)
    notifications = models.PositiveIntegerField(_("notifications"), default=1)
    first_received_at = models.DateTimeField(_("first received"), auto_now_add=True)
    last_received_at = models.DateTimeField(_("last received"), auto_now=True)

    class Meta:
        verbose_name = _("received alert")
        verbose_name_plural = _("received alerts")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "fingerprint", "starts_at"], name="received_alert_idempotency_key"
            ),
            models.CheckConstraint(
                condition=(Q(status="resolved") & Q(ends_at__isnull=False))
                | (Q(status="firing") & Q(ends_at__isnull=True)),
                name="received_alert_ends_at_iff_resolved",
            ),
        ]
        indexes = [models.Index(fields=["source", "incident"])]

    def __str__(self):
        return f"{self.source}:{self.fingerprint}@{self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_mapped(self) -> bool:
        return self.incident_id is not None
