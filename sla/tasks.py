"""Celery tasks: thin wrappers around ``sla.services``, and the debounce of incident-driven recomputes."""

from celery import current_app, shared_task
from django.conf import settings

from . import periods, services

PENDING_TTL = 300  # s; a pending mark outlives any normal wait for the worker, and expires if the task is lost


_clients: dict[int, object] = {}


def _redis():
    """One client (and connection pool) per process: a new one per call opened a TCP connection
    to Redis for every incident change a webhook delivered."""
    import os

    import redis

    pid = os.getpid()  # a forked worker process must not share its parent's sockets
    if pid not in _clients:
        _clients.clear()
        _clients[pid] = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    return _clients[pid]


def _pending_key(code: str, period: str) -> str:
    return f"sla:recompute-pending:{code}:{period}"


def schedule_recompute(pairs) -> int:
    """Recompute the evaluations of ``pairs`` (``(code, "YYYY-MM")``) soon, once per pair however
    many incident changes ask for it meanwhile. Returns how many pairs were newly scheduled.

    Monitoring sends bursts of updates; each used to recompute its contract-months at once.
    Now the first change marks a pair as pending in Redis and schedules one run after
    ``SLA_RECOMPUTE_DEBOUNCE_SECONDS``; later changes find the mark and add nothing, because that
    run starts after they committed and reads them. Eager Celery (the demo) recomputes at once.
    """
    pairs = sorted({(code, period) for code, period in pairs})
    if not pairs:
        return 0
    if current_app.conf.task_always_eager:
        recompute_pairs.delay(pairs)
        return len(pairs)
    client = _redis()
    fresh = [pair for pair in pairs if client.set(_pending_key(*pair), "1", nx=True, ex=PENDING_TTL)]
    if fresh:
        recompute_pairs.apply_async(args=[fresh], countdown=settings.SLA_RECOMPUTE_DEBOUNCE_SECONDS)
    return len(fresh)


@shared_task(name="sla.schedule_for_incident", acks_late=True)
def schedule_for_incident(incident_id: int, previous=None) -> int:
    """After an incident change (``sla.receivers``): schedule the recompute of the contract-months
    it falls in now and, ``previous`` being ``[service id, started, resolved]`` before the change,
    of those it fell in then."""
    from datetime import datetime

    from incidents.models import Incident

    pairs = []
    if previous and previous[1]:  # an incident always has a start; a span without one changes nothing
        service_id, started, resolved = previous
        span = services.pairs_for_span(
            service_id=service_id,
            started_at=datetime.fromisoformat(started),
            resolved_at=datetime.fromisoformat(resolved) if resolved else None,
        )
        pairs += [(code, f"{period:%Y-%m}") for code, period in span]
    current = Incident.objects.filter(pk=incident_id).first()
    if current is not None:
        pairs += [(code, f"{period:%Y-%m}") for code, period in services.pairs_for_incident(incident=current)]
    return schedule_recompute(pairs)


@shared_task(name="sla.recompute_pairs", acks_late=True)
def recompute_pairs(pairs) -> int:
    """Recompute ``[code, "YYYY-MM"]`` pairs. The pending marks are cleared before reading, so a
    change committed from then on schedules a new run rather than being missed."""
    if not current_app.conf.task_always_eager:
        _redis().delete(*[_pending_key(code, period) for code, period in pairs])
    return len(services.recompute(pairs=sorted({(code, periods.period_date(period)) for code, period in pairs})))


@shared_task(name="sla.recompute_for_incident", acks_late=True)
def recompute_for_incident(incident_id: int, also=()) -> int:
    """``also``: ``[code, "YYYY-MM"]`` pairs the incident belonged to before the change."""
    return len(services.recompute_for_incident(incident_id=incident_id, also=[tuple(pair) for pair in also]))


@shared_task(name="sla.nightly_evaluate")
def nightly_evaluate() -> int:
    return len(services.nightly())


@shared_task(name="sla.check_error_budgets")
def check_error_budgets() -> int:
    from .budget import check_budgets

    return len(check_budgets())
