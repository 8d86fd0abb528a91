"""Accuracy of loss models v1 and v2 on a simulated platform where the true loss is known.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/claims_loss .venv/bin/python bench/bench_loss_accuracy.py

Per seed: 128 merchants, each with its own session shape (ramp-up, a flash sale every 20–40
minutes, ramp-down), level, one session a day for the previous 10 days and one today. Today is a
platform-wide promotion day (every session sells 1.5×). Four regions: an incident that changed
nothing hits cn-east (placebo), a full outage (GMV 0 for 20 minutes, then 15 % of the lost GMV
comes back as make-up sales in the 10-minute tail) hits cn-north, a partial outage (GMV at 70 %,
also 15 % make-up) hits cn-south; cn-west is untouched. Sessions start between 18:30 and 20:40,
the incidents at 20:30, so some sessions start inside the incident (no pre-incident minutes).
Prints, for v1 and v2 side by side: placebo pay-out as % of the window's GMV, bias and mean
absolute error of the lost GMV against the truth for each outage, v2's 90 % interval coverage, and
the compute time of both in the same run.
"""

import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import _setup  # noqa: F401
from django.db import connection

from incidents.models import Incident, Provider, Region, Service
from losses import simulation as sim
from losses.engine import compute
from merchants.models import LiveSession, Merchant, SessionMinute

SEEDS = (1, 2, 3, 4)
MERCHANTS, DAYS = 128, 10
TODAY = datetime(2026, 11, 20, tzinfo=UTC)
INCIDENT_AT = TODAY + timedelta(hours=20, minutes=30)
OUTAGE, TAIL = 20, 10
REGIONS = ("cn-east", "cn-north", "cn-south", "cn-west")
KINDS = {"cn-east": ("placebo", 1.0), "cn-north": ("full outage", 0.0), "cn-south": ("partial outage", 0.7)}
PROMOTION = 1.5
MAKEUP = 0.15


def cleanup():
    with connection.cursor() as c:
        for sql in (
            "DELETE FROM incidents_incident_regions WHERE incident_id IN "
            "(SELECT id FROM incidents_incident WHERE source = 'bench-acc')",
            "DELETE FROM incidents_incident WHERE source = 'bench-acc'",
            "DELETE FROM merchants_sessionminute WHERE session_id IN "
            "(SELECT id FROM merchants_livesession WHERE external_id LIKE 'acc-%%')",
            "DELETE FROM merchants_livesession WHERE external_id LIKE 'acc-%%'",
            "DELETE FROM merchants_merchant WHERE code LIKE 'acc-%%'",
        ):
            c.execute(sql)


def load(seed: int) -> tuple[dict, dict]:
    """The platform of one seed; returns (truth per hit session id, region per session id)."""
    rng = random.Random(seed)
    noise = sim.Noise()
    truth, region_of = {}, {}
    minutes = []
    for k in range(MERCHANTS):
        region = REGIONS[k % 4]
        merchant = Merchant.objects.create(code=f"acc-{k:03d}", name=f"Acc {k}", margin_rate=Decimal("0.30"))
        shape = sim.Shape(
            ramp_up=rng.randint(10, 30),
            ramp_down=rng.randint(15, 30),
            spike_every=rng.choice([20, 30, 40]),
            spike_offset=rng.randint(5, 25),
            spike_minutes=rng.randint(2, 4),
            spike_gain=rng.uniform(2.0, 4.0),
        )
        level = 100 * rng.lognormvariate(0, 0.6)
        start_clock = timedelta(hours=18, minutes=30 + rng.randint(0, 130))
        for day in range(DAYS, -1, -1):
            start = TODAY - timedelta(days=day) + start_clock + timedelta(minutes=rng.randint(-10, 10) if day else 0)
            length = rng.randint(180, 240)
            day_level = level * max(0.3, rng.gauss(1, 0.1)) * (PROMOTION if day == 0 else 1)
            counterfactual = sim.curve(rng, length, day_level, shape, noise)
            actual = counterfactual
            session = LiveSession.objects.create(
                merchant=merchant,
                external_id=f"acc-{seed}-{k:03d}-d{day}",
                service_code="rtc-video",
                region_code=region,
                started_at=start,
                ended_at=start + timedelta(minutes=length),
            )
            start = start.replace(second=0, microsecond=0)
            if day == 0 and region in KINDS:
                kind, factor = KINDS[region]
                first = max(0, int((INCIDENT_AT - start) / sim.MINUTE))
                duration = OUTAGE - max(0, int((start - INCIDENT_AT) / sim.MINUTE))
                if kind != "placebo":
                    actual = sim.outage(counterfactual, first, duration, factor, makeup=MAKEUP, tail=TAIL)
                window = slice(first, first + duration + TAIL)
                truth[session.pk] = sum(map(sim.money, counterfactual[window])) - sum(map(sim.money, actual[window]))
                region_of[session.pk] = region
            for i, value in enumerate(actual):
                minutes.append(
                    SessionMinute(
                        session=session,
                        minute=start + i * sim.MINUTE,
                        viewers=100,
                        orders=1,
                        gmv=sim.money(value),
                        ad_spend=Decimal("1.00"),
                    )
                )
    SessionMinute.objects.bulk_create(minutes, batch_size=5000)
    with connection.cursor() as c:
        c.execute("ANALYZE merchants_sessionminute")
    return truth, region_of


def incidents(seed: int) -> list[Incident]:
    provider, _ = Provider.objects.get_or_create(name="Bench RTC", defaults={"kind": "rtc"})
    service, _ = Service.objects.get_or_create(code="rtc-video", defaults={"provider": provider, "name": "RTC"})
    result = []
    for region_code in KINDS:
        region, _ = Region.objects.get_or_create(code=region_code, defaults={"name": region_code})
        incident = Incident.objects.create(
            source="bench-acc",
            external_id=f"{seed}-{region_code}",
            title="bench",
            service=service,
            impact="major_outage",
            cause="provider",
            state="resolved",
            started_at=INCIDENT_AT,
            detected_at=INCIDENT_AT,
            resolved_at=INCIDENT_AT + timedelta(minutes=OUTAGE),
        )
        incident.regions.set([region])
        result.append(incident)
    return result


def pct(value) -> str:
    return f"{float(value) * 100:+6.1f} %"


def main():
    stats = {v: {} for v in (1, 2)}
    timing = {1: 0.0, 2: 0.0}
    methods = {}
    for seed in SEEDS:
        cleanup()
        truth, region_of = load(seed)
        for incident in incidents(seed):
            for version in (1, 2):
                started = time.perf_counter()
                estimate = compute(incident, policy_version=version)
                timing[version] += time.perf_counter() - started
                for r in estimate.merchants:
                    for ln in r.lines:
                        sid = ln.agg.session_id
                        kind = KINDS[region_of[sid]][0]
                        row = stats[version].setdefault(kind, {}).setdefault(seed, [])
                        low = high = None
                        if ln.v2 is not None:
                            methods[ln.v2.method] = methods.get(ln.v2.method, 0) + 1
                            if ln.v2.half_width is not None:
                                low, high = ln.v2.low, ln.v2.high
                        row.append((ln.lost_gmv, truth[sid], ln.agg.actual, low, high))
    cleanup()

    print(f"{len(SEEDS)} seeds x {MERCHANTS} merchants, {DAYS} days of history, promotion day x{PROMOTION}")
    print(f"v2 counterfactual methods used: {methods}")
    print(f"{'':38}{'policy v1: seeds':>20}{'all':>9}{'policy v2: seeds':>22}{'all':>9}")
    for kind in ("placebo", "full outage", "partial outage"):
        for label, fn in metrics(kind):
            cells = []
            for version in (1, 2):
                per_seed = [fn(rows) for rows in stats[version][kind].values()]
                per_seed = [v for v in per_seed if v is not None]
                pooled = fn([row for rows in stats[version][kind].values() for row in rows])
                cells.append(f"{pct(min(per_seed))} .. {pct(max(per_seed))}" if per_seed else "n/a")
                cells.append(pct(pooled) if pooled is not None else "n/a")
            print(f"{kind + ': ' + label:38}{cells[0]:>20}{cells[1]:>9}{cells[2]:>22}{cells[3]:>9}")
    covered = total = 0
    for kind_rows in stats[2].values():
        for rows in kind_rows.values():
            for _, truth_value, _, low, high in rows:
                if low is not None:
                    total += 1
                    covered += low <= truth_value <= high
    print(f"v2 90 % interval covers the true net shortfall: {covered}/{total} = {covered / total:.1%}")
    print(f"compute time, all incidents: v1 {timing[1]:.2f}s, v2 {timing[2]:.2f}s, ratio {timing[2] / timing[1]:.2f}x")


def metrics(kind):
    def payout(rows):
        paid = sum((Decimal(r[0]) for r in rows), Decimal(0))
        gmv = sum((r[2] for r in rows), Decimal(0))
        return paid / gmv if gmv else None

    def bias(rows):
        est = sum((Decimal(r[0]) for r in rows), Decimal(0))
        true = sum((r[1] for r in rows), Decimal(0))
        return (est - true) / true if true else None

    def mae(rows):
        true = sum((r[1] for r in rows), Decimal(0))
        return sum((abs(Decimal(r[0]) - r[1]) for r in rows), Decimal(0)) / true if true else None

    if kind == "placebo":
        return [("pay-out % of window GMV", payout)]
    return [("bias of total vs truth", bias), ("mean abs. error / truth", mae)]


if __name__ == "__main__":
    main()
