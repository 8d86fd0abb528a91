from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import SettingHistoryMixin

from .models import PrometheusSource


@admin.register(PrometheusSource)
class PrometheusSourceAdmin(SettingHistoryMixin, admin.ModelAdmin):
    """Prometheus servers pulled every minute; how far each got and what it left out. The
    queries decide the error rates behind SLA credits, hence the history."""

    history_fields = (
        "base_url",
        "is_active",
        "bearer_token",
        "username",
        "password",
        "service_label",
        "region_label",
        "requests_query",
        "failed_query",
        "stall_rate_query",
        "join_p95_query",
        "hd_share_query",
    )
    secret_fields = ("bearer_token", "password")

    list_display = ["name", "base_url", "is_active", "pulled_until", "last_pull_at", "last_error"]
    list_filter = ["is_active"]
    readonly_fields = ["pulled_until", "last_pull_at", "last_error", "notes"]
    fieldsets = [
        (None, {"fields": ["name", "base_url", "is_active", "bearer_token", "username", "password"]}),
        (
            _("Queries (evaluated at each 5-minute window end)"),
            {
                "fields": [
                    "service_label",
                    "region_label",
                    "requests_query",
                    "failed_query",
                    "stall_rate_query",
                    "join_p95_query",
                    "hd_share_query",
                ]
            },
        ),
        (
            _("Pull"),
            {
                "fields": [
                    "backfill_hours",
                    "settle_seconds",
                    "pulled_until",
                    "last_pull_at",
                    "last_error",
                    "notes",
                    "setting_history",
                ]
            },
        ),
    ]
