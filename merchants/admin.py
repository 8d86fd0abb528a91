from django.contrib import admin

from core.admin import SettingHistoryMixin

from .models import LiveSession, Membership, Merchant


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Merchant)
class MerchantAdmin(SettingHistoryMixin, admin.ModelAdmin):
    history_fields = ("margin_rate", "currency", "timezone")
    list_display = ["code", "name", "timezone", "margin_rate", "currency"]
    search_fields = ["code", "name"]
    inlines = [MembershipInline]


@admin.register(LiveSession)
class LiveSessionAdmin(admin.ModelAdmin):
    list_display = ["external_id", "merchant", "service_code", "region_code", "started_at", "ended_at"]
    list_filter = ["service_code", "region_code"]
    search_fields = ["external_id", "merchant__code"]
    list_select_related = ["merchant"]
    raw_id_fields = ["merchant"]
    date_hierarchy = "started_at"
