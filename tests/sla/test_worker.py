"""The incident signal -> on_commit -> Celery (a real worker through Redis) -> evaluation stored."""

import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from incidents.signals import incident_changed
from sla.models import SLAEvaluation

from .conftest import sh

pytestmark = pytest.mark.celery_worker


def test_incident_change_recomputes_in_a_real_worker(celery_worker_thread, make_contract, make_incident):
    make_contract()
    with transaction.atomic():
        incident = make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11, 30))
        incident_changed.send(sender=type(incident), incident=incident, fields=["created"])
        assert not SLAEvaluation.objects.exists()  # nothing before the commit
    deadline = time.monotonic() + 30
    while not SLAEvaluation.objects.filter(contract_code="RTC-2026", period=date(2026, 10, 1)).exists():
        assert time.monotonic() < deadline, "the worker did not store the evaluation"
        time.sleep(0.2)
    evaluation = SLAEvaluation.objects.get(contract_code="RTC-2026", period=date(2026, 10, 1))
    assert evaluation.downtime_minutes == Decimal("90.00")
