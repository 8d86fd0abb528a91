"""Read-only admin for settlements and issued documents: finance works through
``settlements.services`` (and its pages), which record who, when and why."""

from django.contrib import admin

from claims.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import IssuedDocument, SettlementBatch, SettlementItem


class SettlementItemInline(ReadOnlyInline):
    model = SettlementItem
    fields = ("claim", "amount", "currency", "status", "payment_reference")
    readonly_fields = fields


@admin.register(SettlementBatch)
class SettlementBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "state", "period_start", "period_end", "created_at", "created_by"]
    list_filter = ["state"]
    list_select_related = ["created_by"]
    inlines = [SettlementItemInline]


@admin.register(IssuedDocument)
class IssuedDocumentAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "merchant", "claim", "version", "template_version", "issued_at"]
    list_filter = ["kind"]
    list_select_related = ["merchant", "claim"]
    search_fields = ["merchant__code", "sha256"]
