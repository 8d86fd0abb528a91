from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyMixin, SettingHistoryMixin

from .models import (
    AlertSource,
    Incident,
    IncidentUpdate,
    MaintenanceWindow,
    Provider,
    ReceivedAlert,
    Region,
    Service,
    WebhookSource,
)


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]
    search_fields = ["name"]
    inlines = [ServiceInline]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "provider"]
    list_filter = ["provider"]
    search_fields = ["code", "name"]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(MaintenanceWindow)
class MaintenanceWindowAdmin(admin.ModelAdmin):
    list_display = ["service", "starts_at", "ends_at", "announced_at"]
    list_filter = ["service"]
    filter_horizontal = ["regions"]


@admin.register(WebhookSource)
class WebhookSourceAdmin(SettingHistoryMixin, admin.ModelAdmin):
    history_fields = ("secret", "is_active")
    secret_fields = ("secret",)
    list_display = ["name", "is_active"]


class IncidentUpdateInline(admin.TabularInline):
    model = IncidentUpdate
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "from_state", "to_state", "message", "changes", "origin", "actor", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    """Read-only here: incidents change through the console, API or imports, so that the
    timeline records every change."""

    list_display = ["external_id", "source", "title", "service", "impact", "cause", "state", "started_at"]
    list_filter = ["state", "impact", "cause", "service"]
    search_fields = ["external_id", "title"]
    inlines = [IncidentUpdateInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(AlertSource)
class AlertSourceAdmin(SettingHistoryMixin, admin.ModelAdmin):
    """Alertmanager and Grafana sources: how they authenticate and how their labels map
    (which decides what becomes an incident, hence the history)."""

    history_fields = AlertSource.HISTORY_FIELDS
    secret_fields = AlertSource.SECRET_FIELDS

    list_display = ["name", "kind", "auth", "is_active", "receiver_url", "truncated_alerts", "last_received_at"]
    list_filter = ["kind", "is_active"]
    readonly_fields = ["receiver_url", "truncated_alerts", "last_received_at"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "is_active", "receiver_url"]}),
        (
            _("Authentication"),
            {"fields": ["auth", "username", "token", "hmac_secret", "hmac_header", "timestamp_header"]},
        ),
        (
            _("Label mapping"),
            {
                "fields": [
                    "service_label",
                    "service_values",
                    "region_label",
                    "region_values",
                    "impact_label",
                    "impact_values",
                    "cause_label",
                    "default_cause",
                ]
            },
        ),
        (_("Deliveries"), {"fields": ["truncated_alerts", "last_received_at", "setting_history"]}),
    ]

    @admin.display(description=_("receiver URL"))
    def receiver_url(self, obj):
        return reverse("incidents_api:alert-receiver", args=[obj.name]) if obj.pk else "—"


class MappedFilter(admin.SimpleListFilter):
    title = _("mapped")
    parameter_name = "mapped"

    def lookups(self, request, model_admin):
        return [("no", _("Unmapped")), ("yes", _("Mapped to an incident"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(incident__isnull=self.value() == "no")
        return queryset


@admin.register(ReceivedAlert)
class ReceivedAlertAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Every alert received. Unmapped ones are fixed by changing their source's mapping,
    then "Map again" on the console's alert page."""

    list_display = ["title", "source", "status", "starts_at", "ends_at", "incident", "problem", "notifications"]
    list_filter = [MappedFilter, "source", "status"]
    search_fields = ["title", "fingerprint", "problem"]
