from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = "SLA contracts and provider credits"

    def ready(self):
        from . import receivers  # noqa: F401
