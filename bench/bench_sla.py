"""Benchmark: evaluate 100 SLA contracts over one month holding 10,000 incidents.

Runs in its own throw-away database (``bench_<DATABASE_URL name>_sla``, prefix from
``BENCH_DATABASE_PREFIX``), so it never touches real or test data. Prints the time and the number of SQL queries of
  1. computing the 100 evaluations (read only),
  2. storing them as snapshots (first run: inserts, and second run: updates).
Usage: DATABASE_URL=postgres://... .venv/bin/python bench/bench_sla.py
"""

import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from _dbname import bench_database_name  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

CONTRACTS, INCIDENTS, SERVICES, MAINTENANCE = 100, 10_000, 40, 200
SHANGHAI = ZoneInfo("Asia/Shanghai")


def populate():
    from incidents.models import Cause, Impact, Incident, IncidentState, MaintenanceWindow, Provider, Service
    from sla.models import SLAContract

    rng = random.Random(42)
    providers = [Provider.objects.create(name=f"Bench provider {i}") for i in range(10)]
    services = [
        Service.objects.create(provider=providers[i % 10], code=f"bench-svc-{i}", name=f"Service {i}")
        for i in range(SERVICES)
    ]
    month = datetime(2026, 10, 1, tzinfo=SHANGHAI)
    impacts = list(Impact.values)
    incidents = []
    for n in range(INCIDENTS):
        start = month - timedelta(hours=6) + timedelta(minutes=rng.randrange(0, 31 * 1440 + 360))
        minutes = rng.randrange(1, 240)
        ongoing = n % 500 == 0
        voided = n % 97 == 0
        state = IncidentState.VOIDED if voided else IncidentState.DETECTED if ongoing else IncidentState.RESOLVED
        incidents.append(
            Incident(
                source="bench",
                external_id=f"B-{n}",
                title=f"Bench incident {n}",
                service=rng.choice(services),
                impact=rng.choice(impacts),
                cause=Cause.PROVIDER if n % 5 else rng.choice([Cause.PLATFORM, Cause.UNKNOWN]),
                state=state,
                started_at=start,
                detected_at=start + timedelta(minutes=rng.randrange(0, 5)),
                acknowledged_at=start + timedelta(minutes=rng.randrange(5, 30)),
                resolved_at=None if state != IncidentState.RESOLVED else start + timedelta(minutes=minutes),
            )
        )
    Incident.objects.bulk_create(incidents, batch_size=2000)
    windows = []
    for n in range(MAINTENANCE):
        start = month + timedelta(days=rng.randrange(0, 31), hours=rng.randrange(0, 4))
        windows.append(
            MaintenanceWindow(
                service=services[n % SERVICES],
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                announced_at=start - timedelta(hours=rng.choice([2, 72])),
            )
        )
    MaintenanceWindow.objects.bulk_create(windows)
    tiers = [
        {"below": "99.95", "credit_percent": "10"},
        {"below": "99.0", "credit_percent": "25"},
        {"below": "95.0", "credit_percent": "100"},
    ]
    for i in range(CONTRACTS):
        provider = providers[i % 10]
        own = [s for s in services if s.provider_id == provider.pk]
        contract = SLAContract.objects.create(
            code=f"BENCH-{i:03d}",
            provider=provider,
            currency="CNY",
            monthly_fee=Decimal("100000.00") + i,
            effective_from=date(2026, 1, 1),
            availability_target=Decimal("99.95"),
            partial_outage_weight=Decimal("0.5"),
            degraded_weight=Decimal("0.1"),
            maintenance_notice_hours=48,
            credit_tiers=tiers,
            recovery_targets=[{"impact": "major_outage", "max_minutes": 30, "credit_percent": "5"}],
            first_response_minutes=15,
            min_downtime_minutes=i % 3,
        )
        contract.services.set(own[: 1 + i % len(own)])


def measure(label, fn):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
    print(f"{label:<48} {elapsed * 1000:9.1f} ms {len(queries):5d} queries")
    return result


def main():
    from sla import selectors, services

    now = datetime(2026, 12, 5, tzinfo=SHANGHAI)
    pairs = [(f"BENCH-{i:03d}", "2026-10") for i in range(CONTRACTS)]
    print(f"{CONTRACTS} contracts, {INCIDENTS} incidents, {MAINTENANCE} maintenance windows, month 2026-10")
    computed = measure("compute 100 evaluations (read only)", lambda: selectors.compute(pairs=pairs, now=now))
    measure("recompute + store (insert, finalize, claims)", lambda: services.recompute(pairs=pairs, now=now))
    measure("recompute again (finalized: compare only)", lambda: services.recompute(pairs=pairs, now=now))
    provisional = datetime(2026, 10, 20, tzinfo=SHANGHAI)
    measure(
        "recompute a running month (update in place)",
        lambda: services.recompute(pairs=[(c, "2026-11") for c, _ in pairs], now=provisional),
    )
    measure(
        "recompute a running month again (update)",
        lambda: services.recompute(pairs=[(c, "2026-11") for c, _ in pairs], now=provisional + timedelta(hours=1)),
    )
    counted = sum(len(c.result.incidents) for c in computed)
    breaching = sum(1 for c in computed if c.result.tier_credit_percent > 0)
    print(f"incident rows evaluated across contracts: {counted}; contracts breaching a tier: {breaching}")
    against_plain_union(pairs, now)


def against_plain_union(pairs, now):
    """The evaluation math alone, on the very inputs ``compute`` hands it, beside a plain Python
    interval union of the same clipped incidents minus the maintenance (the least any
    evaluation must do). Alternated, best of 5 runs each."""
    from sla import evaluation as ev
    from sla import selectors

    captured = []
    original = ev.evaluate

    def record(*args, **kwargs):
        captured.append((args, kwargs))
        return original(*args, **kwargs)

    ev.evaluate = record
    try:
        selectors.compute(pairs=pairs, now=now)
    finally:
        ev.evaluate = original

    def totals():
        return [ev.evaluate(*a, **k).downtime for a, k in captured]

    def with_rows():
        return [len(ev.evaluate(*a, **k).incidents) for a, k in captured]

    def plain():
        out = []
        for (terms, ws, we, incidents, maintenance), kwargs in captured:
            lo, hi = ev.to_us(ws), ev.to_us(we)
            spans = sorted(
                (max(ev.to_us(i.started_at), lo), min(ev.to_us(i.resolved_at or kwargs["now"]), hi)) for i in incidents
            )
            merged = []
            for a, b in spans:
                if b <= a:
                    continue
                if merged and a <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], b)
                else:
                    merged.append([a, b])
            holes = sorted(
                (max(ev.to_us(m.starts_at), lo), min(ev.to_us(m.ends_at), hi))
                for m in maintenance
                if ev.to_us(m.announced_at) <= ev.to_us(m.starts_at) - terms.maintenance_notice_hours * 3600 * ev.US
            )
            down = 0
            for a, b in merged:
                down += b - a - sum(max(0, min(b, he) - max(a, hs)) for hs, he in holes)
            out.append(down)
        return out

    # Alternated, best of 5 each: a busy spell on a shared machine then hits both alike.
    timings: dict[str, list[float]] = {"plain": [], "totals": [], "rows": []}
    for _ in range(5):
        for label, fn in (("plain", plain), ("totals", totals), ("rows", with_rows)):
            started = time.perf_counter()
            fn()
            timings[label].append(time.perf_counter() - started)
    base = min(timings["plain"])
    for label, key in (("evaluation totals (no detail rows)", "totals"), ("evaluation with detail rows", "rows")):
        elapsed = min(timings[key])
        print(
            f"{label:<48} {elapsed * 1000:9.1f} ms | plain Python interval union {base * 1000:7.1f} ms"
            f" -> {elapsed / base:.2f}x",
            flush=True,
        )


if __name__ == "__main__":
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (the benchmark creates its own throw-away copy).")
    settings.DATABASES["default"].setdefault("TEST", {})
    settings.DATABASES["default"]["TEST"]["NAME"] = bench_database_name(settings.DATABASES["default"]["NAME"], "sla")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        started = time.perf_counter()
        populate()
        print(f"populate: {time.perf_counter() - started:.1f} s")
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
