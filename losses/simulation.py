"""Simulated live sessions with a known counterfactual, for the loss model's tests, benchmark and backtest.

A session's GMV per minute follows a merchant's shape: a ramp-up, a flash sale (秒杀) every
``spike_every`` minutes lifting sales ``spike_gain`` times for a few minutes, a ramp-down; its
level drifts slowly (AR(1) on the log level) and every minute carries independent noise.
Everything is drawn from a ``random.Random`` the caller seeds, so a run is reproducible.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Shape:
    ramp_up: int = 20
    ramp_down: int = 20
    spike_every: int = 30
    spike_offset: int = 12
    spike_minutes: int = 3
    spike_gain: float = 3.0

    def factor(self, i: int, length: int) -> float:
        value = min(1.0, (i + 1) / self.ramp_up) * min(1.0, (length - i) / self.ramp_down)
        if i >= self.spike_offset and (i - self.spike_offset) % self.spike_every < self.spike_minutes:
            value *= self.spike_gain
        return value


@dataclass(frozen=True)
class Noise:
    minute: float = 0.25  # sd of the per-minute multiplicative noise
    drift: float = 0.03  # sd of the per-minute step of the log level
    persistence: float = 0.97  # AR(1) coefficient of the log level


def curve(
    rng: random.Random, length: int, level: float, shape: Shape, noise: Noise, *, means: list[float] | None = None
) -> list[float]:
    """Counterfactual GMV per minute (floats; :func:`money` turns them into cents).

    ``means``, when given, receives each minute's value before its minute noise (the drifting
    level times the shape): what even a perfect predictor could not know beyond, which is how the
    benchmark measures the simulation's noise floor. The draws are the same either way."""
    log_level = 0.0
    values = []
    for i in range(length):
        log_level = noise.persistence * log_level + rng.gauss(0, noise.drift)
        minute_noise = max(0.0, 1 + rng.gauss(0, noise.minute))
        mean = level * shape.factor(i, length) * math.exp(log_level)
        if means is not None:
            means.append(mean)
        values.append(mean * minute_noise)
    return values


def money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT, ROUND_HALF_UP)


def outage(
    values: list[float], start: int, minutes: int, factor: float, *, makeup: float = 0.0, tail: int = 10
) -> list[float]:
    """Sales at ``factor`` of the counterfactual for ``minutes`` from minute ``start``; ``makeup``
    of the GMV lost comes back spread over the next ``tail`` minutes (buyers returning)."""
    out = list(values)
    lost = 0.0
    for i in range(start, min(start + minutes, len(out))):
        lost += out[i] * (1 - factor)
        out[i] *= factor
    back = list(range(start + minutes, min(start + minutes + tail, len(out))))
    weight = sum(values[i] for i in back)
    for i in back:
        out[i] += lost * makeup * (values[i] / weight if weight else 1 / len(back))
    return out


def minutes(start: datetime, count: int) -> list[datetime]:
    return [start + i * MINUTE for i in range(count)]
