"""Accuracy of loss models v1 and v2 on a simulated platform where the true loss is known.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/claims_loss .venv/bin/python bench/bench_loss_accuracy.py

Per seed: N merchants (``--merchants``, default 128), each with its own session shape (ramp-up,
a flash sale every 20–40 minutes, ramp-down), level, one session a day for the previous 10 days
(``--days``) and one today. Today is a platform-wide promotion day (every session sells 1.5×). Four regions,
N / 4 merchants each: an incident that changed nothing hits cn-east (placebo), a full outage (GMV
0 for 20 minutes, then 15 % of the lost GMV comes back as make-up sales in the 10-minute tail)
hits cn-north, a partial outage (GMV at 70 %, also 15 % make-up) hits cn-south; cn-west is
untouched. Sessions start between 18:30 and 20:40, the incidents at 20:30, so every session of a
hit region is hit and some start inside the incident (no pre-incident minutes). The first 128
merchants of a seed are the same at every N, so a larger platform adds sessions to a smaller one.
Prints, per seed and pooled, v1 and v2 side by side: placebo pay-out as % of the window's GMV,
bias of each outage's total lost GMV against the truth, v2's 90 % interval coverage, the compute
time of both (best of 3, the two versions interleaved) and the time to load the seed. The
``floor`` columns are the bias of a predictor that knew each session's expected curve exactly
(the simulation's drifting level times the shape, before the per-minute noise): the part of the
error no model can remove. ``sd`` is the standard deviation the partial outage's total would
have if its sessions erred independently as they did here, √Σ(estimate − truth)² / Σ truth (for
v2 and for the floor): the per-session error over √sessions, so it halves when the platform is
four times as large — whether one seed's total lands within ±10 % is a matter of sample size.
The last lines give the per-session error of the expected GMV in the window (rms, % of the
counterfactual's) of v2, of the floor and of :func:`bridge`, a predictor that knew the curve
exactly outside the window: the part of v2's error a better counterfactual could still remove.

    bench_loss_accuracy.py [--merchants N] [--days D] [SEED ...]   (default: 128 merchants, 10 days, seeds 1 2 3 4)
"""

import argparse
import math
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import _setup  # noqa: F401
from django.db import connection

from incidents.models import Incident, Provider, Region, Service
from losses import simulation as sim
from losses.engine import compute
from merchants.models import LiveSession, Merchant

SEEDS = (1, 2, 3, 4)
MERCHANTS, DAYS = 128, 10  # merchants per seed and days of history by default (--merchants, --days)
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


def bridge(means: list[float], first: int, end: int, level: float, shape: sim.Shape, noise: sim.Noise) -> float:
    """Expected GMV over minutes [first, end) of a predictor that knew the session's curve exactly
    outside them: the level's log drift at the minute before and the minute after (the drift starts
    at 0), carried across by the simulation's own AR(1), its conditional mean (with the log-normal
    correction). What is left is the drift inside the window and the noise: nothing outside tells."""
    phi, var = noise.persistence, noise.drift**2 / (1 - noise.persistence**2)
    length = len(means)

    def drift(t: int) -> float:
        return 0.0 if t < 0 else math.log(means[t] / (level * shape.factor(t, length)))

    a, b = first - 1, end
    total = 0.0
    for t in range(first, end):
        k = t - a
        if b < length:
            m, n = b - t, b - a
            x = (phi**k * (1 - phi ** (2 * m)) * drift(a) + phi**m * (1 - phi ** (2 * k)) * drift(b)) / (
                1 - phi ** (2 * n)
            )
            v = var * (1 - phi ** (2 * k)) * (1 - phi ** (2 * m)) / (1 - phi ** (2 * n))
        else:
            x, v = phi**k * drift(a), var * (1 - phi ** (2 * k))
        total += level * shape.factor(t, length) * math.exp(x + v / 2)
    return total


def load(seed: int, merchants: int, days: int = DAYS) -> tuple[dict, dict, dict, dict]:
    """The platform of one seed; returns (truth, floor estimate, region, (counterfactual GMV in the
    window, :func:`bridge`'s estimate of it)) per hit session id.

    Merchants and sessions go in with ``bulk_create``, the minutes with one ``COPY`` of text rows:
    ORM objects for a million minutes cost more than the estimates being measured. The random
    draws, and so the figures, are the same as with one insert per row."""
    rng = random.Random(seed)
    noise = sim.Noise()
    truth, floor, region_of, curves = {}, {}, {}, {}
    rows = Merchant.objects.bulk_create(
        Merchant(code=f"acc-{k:03d}", name=f"Acc {k}", margin_rate=Decimal("0.30")) for k in range(merchants)
    )
    sessions: list[LiveSession] = []
    hit: dict[int, tuple] = {}  # index in sessions -> (truth, floor, region, counterfactual, bridge)
    series: list[tuple[int, datetime, list[float]]] = []  # (index in sessions, first minute, GMV per minute)
    for k, merchant in enumerate(rows):
        region = REGIONS[k % 4]
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
        for day in range(days, -1, -1):
            start = TODAY - timedelta(days=day) + start_clock + timedelta(minutes=rng.randint(-10, 10) if day else 0)
            length = rng.randint(180, 240)
            day_level = level * max(0.3, rng.gauss(1, 0.1)) * (PROMOTION if day == 0 else 1)
            means: list[float] = []
            counterfactual = sim.curve(rng, length, day_level, shape, noise, means=means)
            actual = counterfactual
            sessions.append(
                LiveSession(
                    merchant=merchant,
                    external_id=f"acc-{seed}-{k:03d}-d{day}",
                    service_code="rtc-video",
                    region_code=region,
                    started_at=start,
                    ended_at=start + timedelta(minutes=length),
                )
            )
            start = start.replace(second=0, microsecond=0)
            if day == 0 and region in KINDS:
                kind, factor = KINDS[region]
                first = max(0, int((INCIDENT_AT - start) / sim.MINUTE))
                duration = OUTAGE - max(0, int((start - INCIDENT_AT) / sim.MINUTE))
                if kind != "placebo":
                    actual = sim.outage(counterfactual, first, duration, factor, makeup=MAKEUP, tail=TAIL)
                window = slice(first, first + duration + TAIL)
                hit[len(sessions) - 1] = (
                    sum(map(sim.money, counterfactual[window])) - sum(map(sim.money, actual[window])),
                    Decimal(str(sum(means[window]))) - sum(map(sim.money, actual[window])),
                    region,
                    sum(map(sim.money, counterfactual[window])),
                    bridge(means, window.start, window.stop, day_level, shape, noise),
                )
            series.append((len(sessions) - 1, start, actual))
    LiveSession.objects.bulk_create(sessions, batch_size=5000)
    for index, (true_loss, floor_loss, region, expected, bridged) in hit.items():
        pk = sessions[index].pk
        truth[pk], floor[pk], region_of[pk] = true_loss, floor_loss, region
        curves[pk] = (expected, bridged)
    with connection.cursor() as c:
        with c.cursor.copy(
            "COPY merchants_sessionminute (session_id, minute, viewers, orders, gmv, ad_spend) FROM STDIN"
        ) as copy:
            for index, start, values in series:
                pk = sessions[index].pk
                copy.write(
                    "".join(
                        f"{pk}\t{(start + i * sim.MINUTE).isoformat()}\t100\t1\t{sim.money(value)}\t1.00\n"
                        for i, value in enumerate(values)
                    )
                )
        c.execute("ANALYZE merchants_sessionminute")
    return truth, floor, region_of, curves


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
    return "n/a" if value is None else f"{float(value) * 100:+.1f}"


def sd(value) -> str:
    return "n/a" if value is None else f"{float(value) * 100:.1f}"


def ratio(numerator, denominator):
    return numerator / denominator if denominator else None


def figures(rows: list[tuple]) -> dict:
    """rows: (paid, truth, actual, floor, low, high, v2's expected, counterfactual, bridge) per hit
    session of one kind."""
    paid = sum((Decimal(r[0]) for r in rows), Decimal(0))
    truth = sum((r[1] for r in rows), Decimal(0))
    return {
        "payout": ratio(paid, sum((r[2] for r in rows), Decimal(0))),
        "bias": ratio(paid - truth, truth),
        "floor": ratio(sum((r[3] for r in rows), Decimal(0)) - truth, truth),
        # sd of the total's bias if the sessions' errors are independent: √Σe² / Σ truth
        # (= the per-session rms error over √sessions, relative to the mean truth)
        "sd": ratio(sum(((Decimal(r[0]) - r[1]) ** 2 for r in rows), Decimal(0)).sqrt(), truth),
        "sd floor": ratio(sum(((r[3] - r[1]) ** 2 for r in rows), Decimal(0)).sqrt(), truth),
        "sessions": len(rows),
    }


def rms(rows: list[tuple]) -> dict:
    """Per-session error of the expected GMV in the window, rms as a share of the counterfactual's
    (√Σe² / √Σcf²): v2's, the bridge's, the floor's."""
    cf2 = sum(float(r[7]) ** 2 for r in rows)
    if not rows or not cf2 or any(r[6] is None for r in rows):
        return {}
    of = {
        "v2": [r[6] - float(r[7]) for r in rows],
        "bridge": [r[8] - float(r[7]) for r in rows],
        "floor": [float(r[3] - r[1]) for r in rows],  # floor - truth = its expected - counterfactual
    }
    return {name: math.sqrt(sum(e * e for e in errors) / cf2) for name, errors in of.items()}


def coverage(rows: list[tuple]) -> tuple[int, int]:
    inside = [r[4] <= r[1] <= r[5] for r in rows if r[4] is not None]
    return sum(inside), len(inside)


def main(seeds, merchants, days=DAYS):
    rows: dict = {}  # (version, seed, kind) -> rows
    timing: dict = {}  # (version, seed) -> seconds
    loading: dict = {}  # seed -> seconds
    methods: dict = {}
    for seed in seeds:
        cleanup()
        started = time.perf_counter()
        truth, floor, region_of, curves = load(seed, merchants, days)
        loading[seed] = time.perf_counter() - started
        for incident in incidents(seed):
            best = {1: float("inf"), 2: float("inf")}
            for _ in range(3):
                for version in (1, 2):
                    started = time.perf_counter()
                    compute(incident, policy_version=version)
                    best[version] = min(best[version], time.perf_counter() - started)
            for version in (1, 2):
                timing[version, seed] = timing.get((version, seed), 0.0) + best[version]
                for r in compute(incident, policy_version=version).merchants:
                    for ln in r.lines:
                        sid = ln.agg.session_id
                        kind = KINDS[region_of[sid]][0]
                        low = high = expected = None
                        if ln.v2 is not None:
                            expected = float(ln.v2.expected)
                            methods[ln.v2.method] = methods.get(ln.v2.method, 0) + 1
                            if ln.v2.half_width is not None:
                                low, high = ln.v2.low, ln.v2.high
                        rows.setdefault((version, seed, kind), []).append(
                            (ln.lost_gmv, truth[sid], ln.agg.actual, floor[sid], low, high, expected, *curves[sid])
                        )
    cleanup()

    print(f"{len(seeds)} seeds x {merchants} merchants, {days} days of history, promotion day x{PROMOTION}")
    print(f"v2 counterfactual methods used: {methods}")
    print("placebo: pay-out % of window GMV; full / partial outage: bias % of the total vs the truth;")
    print("floor: bias % of a predictor knowing each session's expected curve; n: partial outage's hit sessions;")
    print("sd: of the partial total's bias if sessions err independently, sqrt(sum e^2) / truth (v2, floor);")
    print("coverage: true net shortfalls inside v2's 90 % interval; time: compute, best of 3")
    header = (
        f"{'seed':>6} | {'placebo v1':>10} {'v2':>5} | {'full v1':>7} {'v2':>5} {'floor':>5} | "
        f"{'partial v1':>10} {'v2':>5} {'floor':>5} {'n':>4} {'sd v2':>5} {'floor':>5} | {'coverage v2':>12} | "
        f"{'time v1':>7} {'v2':>6} {'v2/v1':>5} | {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    for seed in [*seeds, None]:

        def pick(version, kind, seed=seed):
            if seed is not None:
                return rows.get((version, seed, kind), [])
            return [row for s in seeds for row in rows.get((version, s, kind), [])]

        f = {(v, k): figures(pick(v, k)) for v in (1, 2) for k in ("placebo", "full outage", "partial outage")}
        covered = [coverage(pick(2, k)) for k in ("placebo", "full outage", "partial outage")]
        inside, total = sum(c[0] for c in covered), sum(c[1] for c in covered)
        t1 = sum(timing[1, s] for s in seeds) if seed is None else timing[1, seed]
        t2 = sum(timing[2, s] for s in seeds) if seed is None else timing[2, seed]
        load_s = sum(loading.values()) if seed is None else loading[seed]
        print(
            f"{seed if seed is not None else 'all':>6} | "
            f"{pct(f[1, 'placebo']['payout']):>10} {pct(f[2, 'placebo']['payout']):>5} | "
            f"{pct(f[1, 'full outage']['bias']):>7} {pct(f[2, 'full outage']['bias']):>5} "
            f"{pct(f[2, 'full outage']['floor']):>5} | "
            f"{pct(f[1, 'partial outage']['bias']):>10} {pct(f[2, 'partial outage']['bias']):>5} "
            f"{pct(f[2, 'partial outage']['floor']):>5} {f[2, 'partial outage']['sessions']:>4} "
            f"{sd(f[2, 'partial outage']['sd']):>5} {sd(f[2, 'partial outage']['sd floor']):>5} | "
            f"{f'{inside}/{total} {inside / total:.1%}' if total else 'n/a':>12} | "
            f"{t1:6.2f}s {t2:5.2f}s {t2 / t1:4.2f}x | {load_s:4.0f}s"
        )
    print(
        "per-session error of the expected GMV in the window, rms % of the counterfactual's, all seeds "
        "(bridge: knew the curve exactly outside the window, carried the drift across it):"
    )
    for kind in ("placebo", "full outage", "partial outage"):
        errors = rms([row for s in seeds for row in rows.get((2, s, kind), [])])
        print(f"  {kind:>14}: " + "  ".join(f"{name} {value * 100:.1f}" for name, value in errors.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("seeds", nargs="*", type=int, default=list(SEEDS))
    parser.add_argument("--merchants", type=int, default=MERCHANTS, help="merchants per seed (a multiple of 4)")
    parser.add_argument("--days", type=int, default=DAYS, help="days of history, a session a day")
    args = parser.parse_args()
    main(args.seeds, args.merchants, args.days)
