"""Admin for the loss engine: the policy (a new version on every edit) and read-only assessments."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from incidents.models import Cause
from losses.models import CompensationPolicy, LossAssessment, LossAssessmentLine

from .policy import EDITABLE_FIELDS, publish_policy


@admin.register(CompensationPolicy)
class CompensationPolicyAdmin(admin.ModelAdmin):
    list_display = ["version", "name", "is_active", "claim_cap", "incident_pool", "created_at", "created_by"]
    readonly_fields = ["version", "is_active", "supersedes", "created_by", "created_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Never edit in place: every save publishes a new active version."""
        changes = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        base = CompensationPolicy.objects.get(pk=obj.pk) if change else None
        new = publish_policy(changes, by=request.user, base=base)
        obj.pk, obj.version, obj.is_active = new.pk, new.version, True
        messages.info(request, _("Saved as policy version %(v)s (now active).") % {"v": new.version})


class LossAssessmentLineInline(admin.TabularInline):
    model = LossAssessmentLine
    extra = 0
    can_delete = False
    fields = (
        "session",
        "window_start",
        "window_end",
        "affected_minutes",
        "excluded_minutes",
        "data_coverage",
        "baseline_method",
        "baseline_gmv_per_minute",
        "actual_gmv",
        "lost_gmv",
        "lost_profit",
        "wasted_ad_spend",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("session")


class CauseFilter(admin.SimpleListFilter):
    """The incident cause with its label (the assessment stores the code)."""

    title = _("cause")
    parameter_name = "cause"

    def lookups(self, request, model_admin):
        return Cause.choices

    def queryset(self, request, queryset):
        return queryset.filter(cause=self.value()) if self.value() else queryset


@admin.register(LossAssessment)
class LossAssessmentAdmin(admin.ModelAdmin):
    """Read-only: assessments are written by the engine only (``assess_incident``)."""

    list_display = ["incident", "merchant", "compensation", "currency", "flag_labels", "is_current", "computed_at"]
    list_filter = ["is_current", CauseFilter]
    search_fields = ["merchant__code", "incident__external_id"]
    inlines = [LossAssessmentLineInline]

    @admin.display(description=_("flags"))
    def flag_labels(self, obj):
        labels = dict(LossAssessment.Flag.choices)
        return ", ".join(str(labels.get(flag, flag)) for flag in obj.flags) or "-"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
