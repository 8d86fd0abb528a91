"""A burst of monitoring updates to one incident recomputes its contract-month once, in a real worker."""

import time
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from celery.signals import task_postrun
from django.utils import timezone

from incidents.records import IncidentRecordSerializer
from incidents.services import upsert_incident
from sla.models import SLAEvaluation
from sla.periods import period_date
from sla.tasks import _pending_key, _redis

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


SHANGHAI = ZoneInfo("Asia/Shanghai")


def _start():
    """Three hours ago (the month still open: see the grace below), moved back when the longest
    update (resolved after 90 minutes) would cross midnight on the 1st in Shanghai, so every
    update's downtime falls in one contract month whatever the hour the suite runs."""
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=3)
    month_start = timezone.localtime(start + timedelta(minutes=90), SHANGHAI).replace(day=1, hour=0, minute=0)
    if start < month_start:
        start = month_start - timedelta(minutes=100)
    return start


START = _start()
PERIOD = timezone.localtime(START, SHANGHAI).strftime("%Y-%m")


def upsert(resolved_minutes):
    serializer = IncidentRecordSerializer(
        data={
            "source": "monitor",
            "external_id": "BURST-1",
            "title": "outage",
            "provider": "Acme RTC",
            "service": "rtc-video",
            "regions": ["cn-east"],
            "impact": "major_outage",
            "cause": "provider",
            "started_at": START.isoformat(),
            "detected_at": START.isoformat(),
            "resolved_at": (START + timedelta(minutes=resolved_minutes)).isoformat(),
        }
    )
    serializer.is_valid(raise_exception=True)
    upsert_incident(record=serializer.to_record(), origin="test")  # commits: the receiver's on_commit runs


def test_burst_of_changes_recomputes_the_contract_month_once_with_the_last_figures(
    make_contract, celery_worker_thread, settings
):
    settings.SLA_RECOMPUTE_DEBOUNCE_SECONDS = 8  # longer than the burst takes on a busy machine
    # Three hours ago may be last month (in Shanghai) when the test runs just after midnight on the
    # 1st; the month must stay open for the later change, so it is not finalized at its end.
    settings.SLA_FINALIZE_GRACE_DAYS = 1
    _redis().delete(_pending_key("RTC-2026", PERIOD))
    make_contract()
    runs = []

    def count(sender=None, args=(), **kwargs):
        if sender is not None and sender.name == "sla.recompute_pairs":
            runs.append(args)

    task_postrun.connect(count, weak=False)
    try:
        for minutes in range(60, 70):  # resolved after 60, 61, ... 69 minutes: ten updates in a burst
            upsert(minutes)
        wait_for(lambda: runs)
        time.sleep(settings.SLA_RECOMPUTE_DEBOUNCE_SECONDS + 2)  # room for a second run, if any were scheduled
        assert runs == [[[["RTC-2026", PERIOD]]]]  # one run, with the one pair
        evaluation = SLAEvaluation.objects.get(contract_code="RTC-2026", period=period_date(PERIOD), is_current=True)
        assert evaluation.downtime_minutes == Decimal("69.00")  # the last update's figures

        upsert(90)  # a later change after the run: scheduled again, not lost
        wait_for(lambda: len(runs) == 2)
    finally:
        task_postrun.disconnect(count)
    evaluation = SLAEvaluation.objects.get(contract_code="RTC-2026", period=period_date(PERIOD), is_current=True)
    assert evaluation.downtime_minutes == Decimal("90.00")


def wait_for(condition, seconds=40):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert condition()
