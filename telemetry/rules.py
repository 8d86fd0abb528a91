"""The error-rate rules, on plain values: which windows are down and which runs of them count.

Shared by SLA evaluation (``sla.telemetry_evaluation``) and incident detection, so both read
"down" the same way. Exact arithmetic: a rate is compared as ``failed × 100 > threshold ×
requests`` with ``Decimal`` thresholds, never as a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


@dataclass(frozen=True)
class Window:
    """Requests and failures summed over the regions (and services) in scope for one window."""

    start: datetime
    minutes: int
    requests: int
    failed: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)

    @property
    def error_rate(self) -> Fraction:
        """Failed share in percent, exact (0 for a window without requests)."""
        return Fraction(self.failed * 100, self.requests) if self.requests else Fraction(0)


@dataclass
class Run:
    windows: list[Window] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.windows[0].start

    @property
    def end(self) -> datetime:
        return self.windows[-1].end

    @property
    def minutes(self) -> int:
        return sum(w.minutes for w in self.windows)

    @property
    def peak_error_rate(self) -> Fraction:
        return max(w.error_rate for w in self.windows)


def is_down(window: Window, *, threshold_percent: Decimal, min_requests: int) -> bool:
    """Down: at least ``min_requests`` requests and an error rate strictly above the threshold."""
    if window.requests < min_requests or window.requests == 0:
        return False
    return Fraction(window.failed * 100) > Fraction(threshold_percent) * window.requests


def down_runs(
    windows: list[Window], *, threshold_percent: Decimal, min_requests: int, min_run_minutes: int
) -> list[Run]:
    """Runs of consecutive down windows lasting at least ``min_run_minutes``.

    ``windows`` sorted by start. Consecutive means each starts where the previous ended: a
    missing window counts as up and ends a run, as does a window with too few requests.
    """
    runs: list[Run] = []
    current: Run | None = None
    for window in windows:
        if is_down(window, threshold_percent=threshold_percent, min_requests=min_requests):
            if current is not None and current.end == window.start:
                current.windows.append(window)
            else:
                current = Run([window])
                runs.append(current)
        else:
            current = None
    return [run for run in runs if run.minutes >= min_run_minutes]


def error_rate_percent(failed: int, requests: int) -> Decimal:
    """Failed share of requests in percent, half-up to 4 decimals (0 without requests)."""
    if not requests:
        return Decimal("0.0000")
    return (Decimal(failed * 100) / Decimal(requests)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
