"""Measured provider quality: one row per service × region × window.

SLA evaluation by error rate (``sla.evaluation_telemetry``), quality targets, incident
detection and the provider scorecard all read these rows. Depends on ``incidents`` only.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from incidents.models import Incident, Region, Service


class TelemetryWindow(models.Model):
    """Counts and quality figures of one service in one region over ``window_minutes``.

    Unique by (service, region, window_start): a window delivered again replaces the stored
    one, so re-importing the same data changes nothing. Quality metrics are optional (a
    monitoring system may only count requests).
    """

    # References are checked once per statement, not per row (migration 0003): a per-row foreign
    # key check cost two thirds of a bulk import. On PostgreSQL, statement-level triggers lock the
    # referenced services and regions (FOR KEY SHARE, as a foreign key does), refuse rows whose
    # service or region does not exist, and refuse deleting a service or region that has windows.
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="telemetry", verbose_name=_("service"), db_constraint=False
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="telemetry", verbose_name=_("region"), db_constraint=False
    )
    window_start = models.DateTimeField(_("window start"))
    window_minutes = models.PositiveSmallIntegerField(_("window minutes"))
    requests = models.BigIntegerField(_("requests"))
    failed_requests = models.BigIntegerField(_("failed requests"))
    stall_rate_percent = models.DecimalField(_("stall rate %"), max_digits=7, decimal_places=4, null=True, blank=True)
    join_p95_ms = models.DecimalField(_("p95 join time (ms)"), max_digits=12, decimal_places=3, null=True, blank=True)
    hd_share_percent = models.DecimalField(_("HD share %"), max_digits=7, decimal_places=4, null=True, blank=True)
    peak_concurrent = models.BigIntegerField(_("peak concurrent"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=80)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("telemetry window")
        verbose_name_plural = _("telemetry windows")
        ordering = ["window_start", "service", "region"]
        constraints = [
            # Service first, then time: the index also serves every read by service and period.
            models.UniqueConstraint(fields=["service", "window_start", "region"], name="telemetry_window_unique"),
            models.CheckConstraint(
                condition=Q(window_minutes__gte=1) & Q(window_minutes__lte=1440), name="telemetry_window_minutes_range"
            ),
            models.CheckConstraint(condition=Q(requests__gte=0), name="telemetry_requests_not_negative"),
            models.CheckConstraint(
                condition=Q(failed_requests__gte=0) & Q(failed_requests__lte=F("requests")),
                name="telemetry_failed_within_requests",
            ),
            models.CheckConstraint(
                condition=Q(stall_rate_percent__isnull=True)
                | (Q(stall_rate_percent__gte=0) & Q(stall_rate_percent__lte=100)),
                name="telemetry_stall_rate_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(hd_share_percent__isnull=True)
                | (Q(hd_share_percent__gte=0) & Q(hd_share_percent__lte=100)),
                name="telemetry_hd_share_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(join_p95_ms__isnull=True) | Q(join_p95_ms__gte=0), name="telemetry_join_p95_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(peak_concurrent__isnull=True) | Q(peak_concurrent__gte=0),
                name="telemetry_peak_concurrent_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.service_id}/{self.region_id} {self.window_start:%Y-%m-%d %H:%M}"

    @property
    def window_end(self):
        from datetime import timedelta

        return self.window_start + timedelta(minutes=self.window_minutes)


class DetectedRun(models.Model):
    """The telemetry behind an incident opened by detection: which service and time range.

    The incident itself lives in ``incidents`` (source ``telemetry``) so that staff attribute,
    confirm or void it like any other; this row lets the incident find its windows and lets a
    re-detection find (and extend) its incident instead of opening another one.
    """

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="telemetry_run", verbose_name=_("incident")
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+", verbose_name=_("service"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    down_windows = models.PositiveIntegerField(_("down windows"))
    peak_error_rate_percent = models.DecimalField(_("peak error rate %"), max_digits=9, decimal_places=4)

    class Meta:
        verbose_name = _("detected run")
        verbose_name_plural = _("detected runs")
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="detected_run_ends_after_start")
        ]

    def __str__(self):
        return f"{self.service_id} {self.starts_at:%Y-%m-%d %H:%M}"


class PrometheusSource(models.Model):
    """A Prometheus server whose PromQL queries give the telemetry windows.

    Each query is evaluated over ``/api/v1/query_range`` at every window end (5-minute steps)
    and must return series labelled with the service and region (``sum by (service, region)
    (increase(requests_total[5m]))``). ``pulled_until`` is the end of the last window pulled:
    the next pull starts there, so after an outage of the collector the gap is back-filled.
    """

    STEP_MINUTES = 5
    QUERY_FIELDS = {
        "requests": "requests_query",
        "failed_requests": "failed_query",
        "stall_rate_percent": "stall_rate_query",
        "join_p95_ms": "join_p95_query",
        "hd_share_percent": "hd_share_query",
    }

    name = models.SlugField(_("name"), max_length=60, unique=True)
    base_url = models.URLField(_("Prometheus URL"), help_text=_("e.g. http://prometheus:9090"))
    is_active = models.BooleanField(_("active"), default=True)
    bearer_token = models.CharField(_("bearer token"), max_length=200, blank=True)
    username = models.CharField(_("basic auth username"), max_length=100, blank=True)
    password = models.CharField(_("basic auth password"), max_length=200, blank=True)
    service_label = models.CharField(_("service label"), max_length=100, default="service")
    region_label = models.CharField(_("region label"), max_length=100, default="region")
    requests_query = models.TextField(
        _("requests query"), default="sum by (service, region) (increase(requests_total[5m]))"
    )
    failed_query = models.TextField(
        _("failed requests query"), default="sum by (service, region) (increase(failed_requests_total[5m]))"
    )
    stall_rate_query = models.TextField(_("stall rate % query"), blank=True)
    join_p95_query = models.TextField(_("p95 join time (ms) query"), blank=True)
    hd_share_query = models.TextField(_("HD share % query"), blank=True)
    backfill_hours = models.PositiveIntegerField(
        _("first pull reaches back (hours)"), default=24, help_text=_("Only when nothing was pulled yet.")
    )
    settle_seconds = models.PositiveIntegerField(
        _("settle time (seconds)"),
        default=60,
        help_text=_("A window is pulled once it ended this long ago, so that its last scrape is in."),
    )
    pulled_until = models.DateTimeField(_("pulled until"), null=True, blank=True)
    last_pull_at = models.DateTimeField(_("last pull"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    notes = models.JSONField(
        _("notes from the last pull"),
        default=list,
        blank=True,
        help_text=_("Series left out: without service or region label, unknown codes, values out of range."),
    )

    class Meta:
        verbose_name = _("Prometheus source")
        verbose_name_plural = _("Prometheus sources")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(requests_query="") & ~Q(failed_query=""), name="prometheus_source_counts_queried"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def telemetry_source(self) -> str:
        """What the windows it writes carry as their ``source``."""
        return f"prometheus:{self.name}"
