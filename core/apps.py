from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: errors, money rounding, CSV reading, upload sniffing, the demo seed."""

    name = "core"
