from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "claims.finance"
    label = "claims_finance"
    verbose_name = "Claims finance"
    default_auto_field = "django.db.models.BigAutoField"
