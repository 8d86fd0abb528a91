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


@shared_task(name="telemetry.pull_prometheus")
def pull_prometheus() -> list[str]:
    """Every minute (Celery beat): one pull task per active Prometheus source, so that a slow
    or unreachable one neither delays the others nor pushes them past the task time limit."""
    from .models import PrometheusSource

    sources = list(PrometheusSource.objects.filter(is_active=True).values_list("pk", "name"))
    for pk, _name in sources:
        pull_prometheus_source.delay(pk)
    return [name for _pk, name in sources]


@shared_task(name="telemetry.pull_prometheus_source", acks_late=True)
def pull_prometheus_source(source_id: int) -> dict | None:
    """One source's windows since its last pull; ``None`` when another pull holds it."""
    from .prometheus import pull_source

    result = pull_source(source_id=source_id)
    return result.as_dict() if result else None
