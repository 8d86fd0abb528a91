"""Admin for SLA data. Thin on purpose: evaluations are computed, credit claims move through
``sla.services`` (the staff SLA pages), and a contract version used by a finalized evaluation is
view-only (an amendment is a new version)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from core.admin import SettingHistoryMixin

from .models import ProviderCreditClaim, SLAContract, SLAEvaluation


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _staff_link(url_name, pk, text):
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[pk]), text)


@admin.register(SLAContract)
class SLAContractAdmin(SettingHistoryMixin, admin.ModelAdmin):
    history_fields = tuple(SLAContract.TERM_FIELDS)
    list_display = [
        "code",
        "version",
        "provider",
        "currency",
        "monthly_fee",
        "effective_from",
        "effective_to",
        "locked",
    ]
    list_filter = ["provider", "currency"]
    search_fields = ["code", "provider__name"]
    filter_horizontal = ["services"]
    readonly_fields = ["lock_status", "versions", "created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("provider")

    def has_change_permission(self, request, obj=None):
        # A locked version is view-only here; ``SLAContract.save`` refuses the edit anyway.
        if obj is not None and obj.is_locked():
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.evaluations.exists():
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(boolean=True, description=_("locked"))
    def locked(self, obj):
        return obj.is_locked()

    @admin.display(description=_("lock"))
    def lock_status(self, obj):
        if obj.pk and obj.is_locked():
            return _("Used by a finalized evaluation: amend it with a new version.")
        return _("Editable (no finalized evaluation uses this version).")

    @admin.display(description=_("versions"))
    def versions(self, obj):
        if not obj.pk:
            return "—"
        rows = SLAContract.objects.filter(code=obj.code).order_by("version")
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">v{}</a> {} – {}{}',
            (
                (
                    reverse("admin:sla_slacontract_change", args=[v.pk]),
                    v.version,
                    v.effective_from,
                    v.effective_to or "…",
                    f" · {v.amendment_reason}" if v.amendment_reason else "",
                )
                for v in rows
            ),
        )


@admin.register(SLAEvaluation)
class SLAEvaluationAdmin(ReadOnlyAdmin):
    """Computed snapshots: read-only. Corrections go through the API (a new revision)."""

    list_display = [
        "contract_code",
        "period",
        "revision",
        "is_current",
        "availability_percent",
        "credit_amount",
        "currency",
        "provisional",
        "finalized_at",
        "outdated",
    ]
    list_filter = ["is_current", "provisional", "outdated", "contract__provider"]
    search_fields = ["contract_code"]
    date_hierarchy = "period"
    exclude = ["details"]
    readonly_fields = ["staff_page"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("contract")

    @admin.display(description=_("staff page"))
    def staff_page(self, obj):
        return _staff_link("sla:evaluation", obj.pk, _("Incidents, maintenance and figures"))


@admin.register(ProviderCreditClaim)
class ProviderCreditClaimAdmin(ReadOnlyAdmin):
    """Read-only: the state moves only through ``sla.services`` (staff SLA pages or API)."""

    list_display = [
        "contract_code",
        "period",
        "provider",
        "state",
        "amount_claimed",
        "amount_received",
        "currency",
        "claim_deadline",
        "provider_reference",
    ]
    list_filter = ["state", "provider", "currency"]
    search_fields = ["contract_code", "provider_reference"]
    readonly_fields = ["staff_page", "history"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("provider")

    @admin.display(description=_("staff page"))
    def staff_page(self, obj):
        return _staff_link("sla:claim", obj.pk, _("Move this claim"))

    @admin.display(description=_("history"))
    def history(self, obj):
        logs = obj.events.select_related("actor").order_by("at", "id")
        return (
            format_html_join(
                mark_safe("<br>"),
                "{} · {} → {} · {} · {}",
                (
                    (
                        f"{log.at:%Y-%m-%d %H:%M}",
                        log.from_state,
                        log.to_state,
                        log.actor or "—",
                        log.message,
                    )
                    for log in logs
                ),
            )
            or "—"
        )
