"""Admin helpers shared by every app."""

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from . import services
from .models import SettingChange


class ReadOnlyMixin:
    """No add, change or delete: for model admins and inlines alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SettingHistoryMixin:
    """Money-affecting settings keep who changed which field from what to what.

    ``history_fields``: the fields to follow; ``secret_fields``: those whose values are hidden.
    The admin's own log says only that an object changed, not from which value.
    """

    history_fields: tuple[str, ...] = ()
    secret_fields: tuple[str, ...] = ()

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "setting_history"]

    def save_model(self, request, obj, form, change):
        before = services.snapshot(obj=obj, fields=self.history_fields) if change else {}
        super().save_model(request, obj, form, change)
        services.record_setting_changes(
            obj=obj, by=request.user, before=before, fields=self.history_fields, secret_fields=self.secret_fields
        )

    @admin.display(description=_("change history"))
    def setting_history(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        rows = SettingChange.objects.filter(model=obj._meta.label_lower, object_id=str(obj.pk)).select_related(
            "changed_by"
        )
        return (
            format_html_join(
                mark_safe("<br>"),
                "{} · {} · {}: {} → {}",
                (
                    (f"{r.changed_at:%Y-%m-%d %H:%M}", r.changed_by, r.field, r.old_value or "—", r.new_value or "—")
                    for r in rows
                ),
            )
            or "—"
        )


@admin.register(SettingChange)
class SettingChangeAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["changed_at", "model", "object_repr", "field", "old_value", "new_value", "changed_by"]
    list_filter = ["model"]
    search_fields = ["object_repr", "field"]
