from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("Merchant claims")

    def ready(self):
        from . import receivers  # noqa: F401  (claim workflow: recompute on incident changes)
