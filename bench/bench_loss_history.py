"""The same incident estimate with 1x and 10x older history in the metrics table (partition pruning).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/claims_loss .venv/bin/python bench/bench_loss_history.py

Loads ``bench_loss``'s incident (``BENCH_SESSIONS`` sessions, default 4,000, of 240 minutes; half
of them hit) into day partitions, then adds older history: copies of every session and its
minutes 35, 36, ... days before the incident, outside the 28-day history any estimate reads.
With one copy (1x) and then ten (10x) in the table it measures, best of 3, the engine's estimate
under loss models v1 and v2 and ``bench_loss``'s hand-written query, and prints each time, the
10x/1x ratio (partition pruning keeps it ~1.0) and the engine/hand-written ratio. It also prints
the planner's estimated against actual rows of the main loss query (``losses.aggregates``) at
the nodes where they differ most, from ``EXPLAIN (ANALYZE)``.
"""

import json
import os
import time
from datetime import timedelta

import _setup  # noqa: F401
import bench_loss as bl
from django.db import connection, transaction

from losses import aggregates
from losses.engine import compute, window_for
from losses.policy import policy_version_named
from merchants.services import analyze, create_metric_partitions

bl.SESSIONS = int(os.environ.get("BENCH_SESSIONS", 4_000))
FIRST_COPY_DAYS = 35  # older than the 28-day history window: no estimate reads these minutes
COPIES = 10


def add_history(copies) -> int:
    """Copies of the incident's sessions and minutes ``FIRST_COPY_DAYS + k`` days back."""
    with connection.cursor() as c:
        for k in copies:
            shift = timedelta(days=FIRST_COPY_DAYS + k)
            c.execute(
                """
                INSERT INTO merchants_livesession
                    (merchant_id, external_id, service_code, region_code, started_at, ended_at, created_at, updated_at)
                SELECT merchant_id, %(prefix)s || external_id, service_code, region_code,
                       started_at - %(shift)s, ended_at - %(shift)s, now(), now()
                FROM merchants_livesession WHERE external_id LIKE %(like)s AND external_id NOT LIKE %(copies)s
                """,
                {"prefix": f"{bl.PREFIX}h{k}-", "shift": shift, "like": bl.PREFIX + "%", "copies": bl.PREFIX + "h%"},
            )
            c.execute(
                """
                INSERT INTO merchants_sessionminute (session_id, minute, viewers, orders, gmv, ad_spend)
                SELECT n.id, sm.minute - %(shift)s, sm.viewers, sm.orders, sm.gmv, sm.ad_spend
                FROM merchants_livesession o
                JOIN merchants_livesession n ON n.external_id = %(prefix)s || o.external_id
                JOIN merchants_sessionminute sm ON sm.session_id = o.id
                WHERE o.external_id LIKE %(like)s AND o.external_id NOT LIKE %(copies)s
                """,
                {"prefix": f"{bl.PREFIX}h{k}-", "shift": shift, "like": bl.PREFIX + "%", "copies": bl.PREFIX + "h%"},
            )
        analyze(["merchants_livesession", "merchants_sessionminute"])
        c.execute("SELECT count(*) FROM merchants_sessionminute")
        return c.fetchone()[0]


def plan_misestimates(incident, top=3):
    """(estimated, actual, node) of the main loss query's plan nodes, worst first (rows per loop)."""
    window = window_for(incident, policy_version_named(1))
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL jit = off")
        c.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + aggregates._SQL, aggregates._params(window))
        raw = c.fetchone()[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = []

    def walk(node):
        est, act = node["Plan Rows"], node["Actual Rows"]
        if node.get("Actual Loops", 0):
            label = node["Node Type"] + (f" on {node['Relation Name']}" if "Relation Name" in node else "")
            label += f" [{node['Alias']}]" if "Alias" in node else ""
            label += f" ({node['Subplan Name']})" if "Subplan Name" in node else ""
            nodes.append((max(est, 1) / max(act, 1), est, act, node.get("Actual Loops"), label))
        for child in node.get("Plans", []):
            walk(child)

    walk(plan)
    nodes.sort(key=lambda n: -max(n[0], 1 / n[0]))
    return plan["Plan Rows"], plan["Actual Rows"], nodes[:top]


def measure(incident, label):
    params = {"start": bl.T0, "end": bl.T0 + timedelta(minutes=70)}

    def hand_written():
        with transaction.atomic(), connection.cursor() as c:
            c.execute("SET LOCAL jit = off")
            c.execute(bl.HAND_WRITTEN, params)
            return c.fetchall()

    hand_written()  # warm caches
    sql_time, rows = bl.best_of(3, hand_written)
    v1_time, v1 = bl.best_of(3, lambda: compute(incident, policy_version=1))
    v2_time, v2 = bl.best_of(3, lambda: compute(incident, policy_version=2))
    lines = sum(len(m.lines) for m in v1.merchants)
    top_est, top_act, worst = plan_misestimates(incident)
    print(f"--- {label}")
    print(f"hit sessions {lines:,} (hand-written {len(rows):,})")
    print(f"hand-written SQL (jit off): {sql_time:6.3f}s")
    print(f"engine v1 estimate:         {v1_time:6.3f}s  ratio to hand-written {v1_time / sql_time:.2f}x")
    print(f"engine v2 estimate:         {v2_time:6.3f}s")
    print(
        f"main loss query: estimated {top_est:,} rows, actual {top_act:,}; worst nodes (estimated / actual per loop):"
    )
    for factor, est, act, loops, node in worst:
        print(f"    {est:>14,} / {act:>10,}  x{loops:<6} {node}  (off by {max(factor, 1 / factor):.3g}x)")
    return sql_time, v1_time, v2_time


def main():
    bl.cleanup()
    first = (bl.T0 - timedelta(days=FIRST_COPY_DAYS + COPIES + 1)).date()
    last = (bl.T0 + timedelta(days=1)).date()
    created = create_metric_partitions(first=first, last=last)
    print(f"{len(created)} day partitions {first} .. {last}")
    incident = bl.load()
    try:
        started = time.perf_counter()
        rows = add_history(range(1))
        print(f"1x older history: {rows:,} metric rows in the table (loaded in {time.perf_counter() - started:.1f}s)")
        one = measure(incident, "1x older history")
        started = time.perf_counter()
        rows = add_history(range(1, COPIES))
        print(f"10x older history: {rows:,} metric rows in the table (loaded in {time.perf_counter() - started:.1f}s)")
        ten = measure(incident, "10x older history")
        print("--- 10x / 1x older history (goal ~1.0)")
        for name, a, b in zip(("hand-written", "engine v1", "engine v2"), one, ten, strict=True):
            print(f"{name:13} {a:6.3f}s -> {b:6.3f}s  ratio {b / a:.2f}")
    finally:
        bl.cleanup()


if __name__ == "__main__":
    main()
