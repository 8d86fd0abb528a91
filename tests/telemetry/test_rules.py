"""The error-rate rules on plain windows: threshold, minimum requests, run length, gaps."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from telemetry.rules import Window, down_runs, is_down

T0 = datetime(2026, 11, 1, tzinfo=UTC)
RULE = {"threshold_percent": Decimal("0.4"), "min_requests": 250}


def w(i, requests=1000, failed=5, minutes=5):
    return Window(T0 + timedelta(minutes=5 * i), minutes, requests, failed)


def test_exactly_the_threshold_is_up_and_just_above_is_down():
    assert not is_down(w(0, 1000, 4), **RULE)  # 0.4 % exactly
    assert is_down(w(0, 100000, 401), **RULE)  # 0.401 %
    assert not is_down(w(0, 100000, 400), **RULE)


def test_exactly_the_minimum_requests_counts_and_one_less_does_not():
    assert is_down(w(0, 250, 2), **RULE)  # 0.8 % of exactly 250
    assert not is_down(w(0, 249, 249), **RULE)
    assert not is_down(w(0, 0, 0), threshold_percent=Decimal("0"), min_requests=0)


def test_a_run_of_exactly_the_minimum_counts_and_a_shorter_one_does_not():
    assert [r.minutes for r in down_runs([w(0), w(1)], min_run_minutes=10, **RULE)] == [10]
    assert down_runs([w(0)], min_run_minutes=10, **RULE) == []
    assert [r.minutes for r in down_runs([w(0, minutes=10)], min_run_minutes=10, **RULE)] == [10]


def test_a_missing_or_quiet_window_ends_a_run():
    gap = [w(0), w(1), w(3), w(4)]  # window 2 has no row
    assert [(r.start, r.minutes) for r in down_runs(gap, min_run_minutes=10, **RULE)] == [
        (T0, 10),
        (T0 + timedelta(minutes=15), 10),
    ]
    quiet = [w(0), w(1, requests=200, failed=200), w(2)]
    assert down_runs(quiet, min_run_minutes=10, **RULE) == []
    ok = [w(0), w(1, failed=0), w(2)]
    assert down_runs(ok, min_run_minutes=10, **RULE) == []
