from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SettlementsConfig(AppConfig):
    name = "settlements"
    verbose_name = _("Settlements and statements")

    def ready(self):
        from . import receivers  # noqa: F401  (connects the statement-on-settle receiver)
