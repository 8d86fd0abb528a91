from django.contrib import admin

from core.admin import SettingHistoryMixin

from .models import Incident, IncidentUpdate, MaintenanceWindow, Provider, Region, Service, WebhookSource


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
