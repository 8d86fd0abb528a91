"""Shared records: the history of money-affecting settings changed in the admin."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .append_only import AppendOnlyModel


class SettingChange(AppendOnlyModel):
    """One field of one setting changed by one person (append-only, like the audit trails).

    A secret's value is never stored: its change is recorded as ``(hidden)``.
    """

    model = models.CharField(_("setting"), max_length=100, help_text=_("app_label.model"))
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    field = models.CharField(_("field"), max_length=100)
    old_value = models.TextField(_("old value"), blank=True)
    new_value = models.TextField(_("new value"), blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("changed by")
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("setting change")
        verbose_name_plural = _("setting changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self):
        return f"{self.object_repr}.{self.field} ({self.changed_at:%Y-%m-%d %H:%M})"
