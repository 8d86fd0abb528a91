"""The loss engine on an incident hitting 5,000 of 10,000 sessions with 240 minutes each (2.4M rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/claims_loss .venv/bin/python bench/bench_loss.py

Loads the data set-based (not measured), then measures side by side, best of 3:
* the engine's estimate under loss model v1 (``losses.compute``: one aggregate query + Decimal arithmetic),
  with its query count, and under loss model v2 (policy version 2) as a ratio to v1;
* one hand-written SQL query computing the same per-session lost GMV (same baselines and fallback);
* ``assess_incident`` (estimate + storing 5,000 lines), with its query count.
It checks both give the same lost GMV, then deletes its data (prefix ``bench-loss-``).
"""

import time
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import _setup  # noqa: F401
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents.models import Incident, Provider, Region, Service
from losses.engine import assess_incident, compute
from losses.models import LossAssessment

PREFIX = "bench-loss-"
SESSIONS, MINUTES, MERCHANTS = 10_000, 240, 500
T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)  # incident start
CENT = Decimal("0.01")

HAND_WRITTEN = """
WITH hit AS (
    SELECT s.id, s.merchant_id,
           date_trunc('minute', greatest(s.started_at, %(start)s), 'UTC') AS w_start,
           date_trunc('minute', least(coalesce(s.ended_at, %(end)s), %(end)s) - interval '1 microsecond', 'UTC')
               + interval '1 minute' AS w_end
    FROM merchants_livesession s
    WHERE s.service_code = 'rtc-video' AND s.region_code = 'cn-east'
      AND s.started_at < %(end)s AND (s.ended_at IS NULL OR s.ended_at > %(start)s)
),
pre AS (
    SELECT sm.session_id, count(*) AS n, avg(sm.gmv) AS b FROM merchants_sessionminute sm
    WHERE sm.session_id IN (SELECT id FROM hit) AND sm.minute >= %(start)s - interval '30 minutes'
      AND sm.minute < %(start)s
    GROUP BY sm.session_id
),
hist AS (  -- no other incident in the bench: every minute of the merchant's other sessions counts
    SELECT h.id, count(*) AS n, avg(sm.gmv) AS b
    FROM hit h JOIN merchants_livesession o ON o.merchant_id = h.merchant_id AND o.id <> h.id
    JOIN merchants_sessionminute sm ON sm.session_id = o.id
    WHERE h.id NOT IN (SELECT session_id FROM pre WHERE n >= 10)
      AND sm.minute >= %(start)s - interval '28 days' AND sm.minute < %(start)s
    GROUP BY h.id
),
baseline AS (
    SELECT h.id, h.w_start, h.w_end,
           CASE WHEN pre.n >= 10 THEN pre.b WHEN hist.n >= 60 THEN hist.b END AS b
    FROM hit h LEFT JOIN pre ON pre.session_id = h.id LEFT JOIN hist ON hist.id = h.id
)
SELECT b.id, coalesce(sum(greatest(0, b.b - coalesce(sm.gmv, 0))), 0) AS lost_gmv
FROM baseline b
CROSS JOIN LATERAL generate_series(b.w_start, b.w_end - interval '1 minute', interval '1 minute') AS g(minute)
LEFT JOIN merchants_sessionminute sm ON sm.session_id = b.id AND sm.minute = g.minute
GROUP BY b.id
"""


def cleanup():
    with connection.cursor() as c:
        c.execute(
            "DELETE FROM losses_lossassessmentline WHERE assessment_id IN (SELECT id FROM losses_lossassessment "
            "WHERE incident_id IN (SELECT id FROM incidents_incident WHERE source = 'bench-loss'))"
        )
        c.execute(
            "DELETE FROM losses_lossassessment WHERE incident_id IN (SELECT id FROM incidents_incident "
            "WHERE source = 'bench-loss')"
        )
        c.execute(
            "DELETE FROM incidents_incident_regions WHERE incident_id IN "
            "(SELECT id FROM incidents_incident WHERE source = 'bench-loss')"
        )
        c.execute("DELETE FROM incidents_incident WHERE source = 'bench-loss'")
        c.execute(
            "DELETE FROM merchants_sessionminute WHERE session_id IN "
            "(SELECT id FROM merchants_livesession WHERE external_id LIKE %s)",
            [PREFIX + "%"],
        )
        c.execute("DELETE FROM merchants_livesession WHERE external_id LIKE %s", [PREFIX + "%"])
        c.execute("DELETE FROM merchants_merchant WHERE code LIKE %s", [PREFIX + "%"])


def load():
    """10,000 sessions of 240 minutes: even ones in cn-east (hit), odd ones in cn-north.
    One hit session in ten starts 5 minutes before the incident (historical baseline)."""
    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO merchants_merchant (code, name, timezone, currency, margin_rate) "
            "SELECT %s || i, 'Bench ' || i, 'Asia/Shanghai', 'CNY', CASE WHEN i %% 3 = 0 THEN NULL ELSE 0.25 END "
            "FROM generate_series(0, %s - 1) i",
            [PREFIX + "m", MERCHANTS],
        )
        c.execute(
            """
            INSERT INTO merchants_livesession
                (merchant_id, external_id, service_code, region_code, started_at, ended_at, created_at, updated_at)
            SELECT m.id, %(prefix)s || i, 'rtc-video', CASE WHEN i %% 2 = 0 THEN 'cn-east' ELSE 'cn-north' END,
                   st, st + interval '240 minutes', now(), now()
            FROM generate_series(0, %(n)s - 1) i
            JOIN merchants_merchant m ON m.code = %(prefix)s || 'm' || (i %% %(merchants)s)
            CROSS JOIN LATERAL (SELECT CASE WHEN i %% 20 = 0 THEN %(t0)s - interval '5 minutes'
                                            ELSE %(t0)s - interval '120 minutes' END AS st) x
            """,
            {"prefix": PREFIX, "n": SESSIONS, "merchants": MERCHANTS, "t0": T0},
        )
        c.execute(
            """
            INSERT INTO merchants_sessionminute (session_id, minute, viewers, orders, gmv, ad_spend)
            SELECT s.id, s.started_at + g * interval '1 minute', 500 + (g * 7) %% 300, g %% 5,
                   CASE WHEN s.started_at + g * interval '1 minute' >= %(t0)s
                         AND s.started_at + g * interval '1 minute' < %(t0)s + interval '70 minutes'
                        THEN round(((s.id * 31 + g * 17) %% 4000) / 10.0, 2)
                        ELSE round(((s.id * 31 + g * 17) %% 4000) / 2.5 + 200, 2) END,
                   round(((s.id + g) %% 40) / 4.0, 2)
            FROM merchants_livesession s CROSS JOIN generate_series(0, %(minutes)s - 1) g
            WHERE s.external_id LIKE %(like)s
            """,
            {"t0": T0, "minutes": MINUTES, "like": PREFIX + "%"},
        )
        c.execute("VACUUM ANALYZE merchants_livesession")
        c.execute("VACUUM ANALYZE merchants_sessionminute")
        c.execute("SELECT count(*) FROM merchants_sessionminute")
        rows = c.fetchone()[0]
    provider, _ = Provider.objects.get_or_create(name="Bench RTC", defaults={"kind": "rtc"})
    service, _ = Service.objects.get_or_create(code="rtc-video", defaults={"provider": provider, "name": "RTC"})
    region, _ = Region.objects.get_or_create(code="cn-east", defaults={"name": "East"})
    incident = Incident(
        source="bench-loss",
        external_id="big",
        title="bench outage",
        service=service,
        impact="major_outage",
        cause="provider",
        state="resolved",
        started_at=T0,
        detected_at=T0,
        resolved_at=T0 + timedelta(minutes=60),
    )
    incident.save()
    incident.regions.set([region])
    print(f"loaded {SESSIONS:,} sessions, {rows:,} metric rows in {time.perf_counter() - started:.1f}s")
    return incident


def best_of(n, fn):
    times, result = [], None
    for _ in range(n):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


def main():
    cleanup()
    incident = load()
    try:
        params = {"start": T0, "end": T0 + timedelta(minutes=70)}

        def hand_written():
            with connection.cursor() as c:
                c.execute(HAND_WRITTEN, params)
                return c.fetchall()

        def hand_written_no_jit():
            with transaction.atomic(), connection.cursor() as c:
                c.execute("SET LOCAL jit = off")
                c.execute(HAND_WRITTEN, params)
                return c.fetchall()

        def engine(version=1):
            with CaptureQueriesContext(connection) as ctx:
                estimate = compute(incident, policy_version=version)
            return estimate, len(ctx.captured_queries)

        hand_written()  # warm caches
        sql_time, sql_rows = best_of(3, hand_written)
        sql_nojit_time, _ = best_of(3, hand_written_no_jit)
        engine_time, (estimate, engine_queries) = best_of(3, engine)
        v2_time, (estimate_v2, v2_queries) = best_of(3, lambda: engine(2))

        lines = [ln for r in estimate.merchants for ln in r.lines]
        engine_lost = sum((ln.lost_gmv for ln in lines), Decimal(0)).quantize(CENT, ROUND_HALF_UP)
        sql_lost = sum((Decimal(r[1]) for r in sql_rows), Decimal(0)).quantize(CENT, ROUND_HALF_UP)
        methods = {}
        for ln in lines:
            methods[ln.agg.method] = methods.get(ln.agg.method, 0) + 1
        print(f"hit sessions: {len(lines):,} (hand-written: {len(sql_rows):,}); merchants: {len(estimate.merchants)}")
        print(f"baseline methods: {methods}")
        same = "SAME" if engine_lost == sql_lost else "DIFF"
        print(f"lost GMV: engine {engine_lost}  hand-written {sql_lost}  {same}")
        print(f"hand-written SQL query, server defaults: {sql_time:6.2f}s (1 query)")
        print(f"hand-written SQL query, jit off:         {sql_nojit_time:6.2f}s (1 query)")
        fastest = min(sql_time, sql_nojit_time)
        print(
            f"engine estimate (compute):               {engine_time:6.2f}s ({engine_queries} queries)  "
            f"ratio to the faster hand-written run {engine_time / fastest:.2f}x  "
            f"{'OK (<2x)' if engine_time < 2 * fastest else 'OVER 2x'}"
        )
        total = sum(r.compensation for r in estimate.merchants)
        print(f"compensation total {total} (before pool {estimate.total_before_pool})")
        print(
            f"loss model v2 estimate (compute):        {v2_time:6.2f}s ({v2_queries} queries)  "
            f"ratio to loss model v1 in this run {v2_time / engine_time:.2f}x  "
            f"{'OK (<2x)' if v2_time < 2 * engine_time else 'OVER 2x'}"
        )
        methods_v2 = {}
        for r in estimate_v2.merchants:
            for ln in r.lines:
                methods_v2[ln.agg.method] = methods_v2.get(ln.agg.method, 0) + 1
        total_v2 = sum(r.compensation for r in estimate_v2.merchants)
        print(f"v2 methods: {methods_v2}; v2 compensation total {total_v2}")

        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            assessments = assess_incident(incident, policy_version=1)
            assess_time = time.perf_counter() - started
        print(
            f"assess_incident (store {len(assessments)} assessments, {len(lines):,} lines): "
            f"{assess_time:.2f}s ({len(ctx.captured_queries)} queries)"
        )
        assert LossAssessment.objects.filter(incident=incident, is_current=True).count() == len(assessments)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
