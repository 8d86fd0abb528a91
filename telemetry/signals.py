"""``windows_ingested(spans={service_id: (start, end)})``: sent after telemetry was written and
detection ran, so apps that read telemetry (``sla``) can recompute what it changes."""

from django.dispatch import Signal

windows_ingested = Signal()
