"""Celery tasks: thin wrappers around ``telemetry.detection``."""

from datetime import datetime

from celery import shared_task


@shared_task(name="telemetry.after_ingest", acks_late=True)
def after_ingest(spans: dict) -> int:
    """``spans``: ``{service_id: [first window start, last window end]}`` (ISO 8601) just written.

    Detects incidents around them, then tells listeners (SLA recompute) what changed."""
    from .detection import detect_for_spans
    from .signals import windows_ingested

    parsed = {int(sid): (datetime.fromisoformat(a), datetime.fromisoformat(b)) for sid, (a, b) in spans.items()}
    touched = detect_for_spans(spans=parsed)
    windows_ingested.send(sender=None, spans=parsed)
    return len(touched)


@shared_task(name="telemetry.pull_prometheus", acks_late=True)
def pull_prometheus() -> dict:
    """Every active Prometheus source's windows since its last pull (Celery beat, every minute)."""
    from .prometheus import pull_all

    return {result.source: result.as_dict() for result in pull_all()}
