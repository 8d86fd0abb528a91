"""Celery tasks: thin wrappers around ``sla.services``."""

from celery import shared_task

from . import services


@shared_task(name="sla.recompute_for_incident", acks_late=True)
def recompute_for_incident(incident_id: int, also=()) -> int:
    """``also``: ``[code, "YYYY-MM"]`` pairs the incident belonged to before the change."""
    return len(services.recompute_for_incident(incident_id, also=[tuple(pair) for pair in also]))


@shared_task(name="sla.nightly_evaluate")
def nightly_evaluate() -> int:
    return len(services.nightly())


@shared_task(name="sla.check_error_budgets")
def check_error_budgets() -> int:
    from .budget import check_budgets

    return len(check_budgets())
