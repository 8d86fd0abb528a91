"""Read-only admin for claims: every change goes through ``claims.services`` (role
checks, audit trail, notifications), so the admin only lets operators look things up."""

from django.contrib import admin

from claims.models import Claim, ClaimEvent
from core.admin import ReadOnlyMixin


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0


class ClaimEventInline(ReadOnlyInline):
    model = ClaimEvent
    fields = ("created_at", "actor", "actor_role", "from_state", "to_state", "reason_code", "amount", "message")
    readonly_fields = fields
    ordering = ["created_at", "id"]


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["id", "merchant", "incident", "state", "computed_amount", "approved_amount", "currency", "due_at"]
    list_filter = ["state", "origin", "currency"]
    search_fields = ["merchant__code", "merchant__name", "incident__external_id", "incident__title"]
    list_select_related = ["merchant", "incident"]
    inlines = [ClaimEventInline]
