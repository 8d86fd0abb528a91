from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "claims.finance"
    label = "claims_finance"
    verbose_name = _("Settlements and statements")
    default_auto_field = "django.db.models.BigAutoField"
