from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"

    def ready(self):
        from . import receivers  # noqa: F401  (claim workflow: recompute on incident changes)
