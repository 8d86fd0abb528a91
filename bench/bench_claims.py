"""Claims at volume: the compensation ledger export, the staff queue and the claims API.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/claims .venv/bin/python bench/bench_claims.py

In a throw-away database: 2,000 incidents, 500 merchants and ``BENCH_CLAIMS`` claims (default
50,000; 30 % accepted over 30 days, the rest spread over the other states). Prints, each beside
its baseline from the same run:
  1. the ledger CSV export of every accepted claim (rows/s) against one hand-written SQL query
     ``COPY``-ing the same columns out (a lower bound: no Python at all);
  2. the ledger XLSX (time and peak Python memory) for 1/10 and all of the rows;
  3. ``/console/claims/`` and ``/api/claims/claims/`` (page 1 and a deep page, by cursor): time and
     queries with 500 claims and again with all of them, and the deep page over page 1.
"""

import base64
import io
import itertools
import os
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import _setup  # noqa: F401
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from settlements import exports

N = int(os.environ.get("BENCH_CLAIMS", "50000"))
T0 = datetime(2026, 10, 1, tzinfo=UTC)
STATES = ["submitted", "under_review", "info_requested", "approved", "rejected", "withdrawn", "proposed"]


def populate(n, offset=0):
    from claims.models import Claim
    from incidents.models import Incident, Provider, Service
    from merchants.models import Merchant

    if not offset:
        provider = Provider.objects.create(name="Bench CDN", kind="cdn")
        service = Service.objects.create(provider=provider, code="cdn-live", name="CDN live")
        Incident.objects.bulk_create(
            Incident(
                source="bench",
                external_id=f"B-{i}",
                title=f"边缘节点故障 edge outage {i}",
                service=service,
                impact="major_outage",
                cause="provider",
                state="resolved",
                started_at=T0 + timedelta(hours=i),
                detected_at=T0 + timedelta(hours=i),
                resolved_at=T0 + timedelta(hours=i, minutes=30),
            )
            for i in range(2000)
        )
        Merchant.objects.bulk_create(Merchant(code=f"bm{i:03d}", name=f"商户 {i} Shop") for i in range(500))
    incidents = list(Incident.objects.order_by("pk").values_list("pk", flat=True))
    merchants = list(Merchant.objects.order_by("pk").values_list("pk", flat=True))
    claims = []
    for k in range(offset, offset + n):
        accepted = k % 10 < 3
        at = T0 + timedelta(minutes=(k * 37) % (30 * 24 * 60))
        claims.append(
            Claim(
                incident_id=incidents[k % len(incidents)],
                merchant_id=merchants[(k // len(incidents)) % len(merchants)],
                origin="system",
                currency="CNY",
                computed_amount=Decimal("720.00"),
                approved_amount=Decimal("720.00") if accepted else None,
                state="accepted" if accepted else STATES[k % len(STATES)],
                accepted_at=at if accepted else None,
                due_at=at + timedelta(days=1) if not accepted and k % 7 < 3 else None,
                statement="直播中断 " * 20,
            )
        )
    Claim.objects.bulk_create(claims, batch_size=5000)
    with connection.cursor() as c:
        c.execute("ANALYZE claims_claim")


def timed(fn, repeat=3):
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return best, result


START, END = T0.date(), (T0 + timedelta(days=40)).date()


def ledger_csv():
    return sum(len(chunk) for chunk in exports.ledger_csv(START, END))


def ledger_csv_python():
    """The rows the XLSX is built from, written by the csv module: how the CSV was made before."""
    return sum(len(chunk) for chunk in exports.iter_csv(exports.ledger_rows(START, END)))


BASELINE_SQL = """
COPY (
    SELECT timezone(current_setting('TimeZone'), c.accepted_at)::date, c.id, m.code, m.name,
           i.source || ':' || i.external_id, c.currency, c.approved_amount, c.state,
           b.reference, si.status, coalesce(nullif(c.payment_reference, ''), si.payment_reference),
           si.paid_at::date, CASE WHEN c.state = 'settled' THEN c.approved_amount ELSE 0 END
    FROM claims_claim c
    JOIN merchants_merchant m ON m.id = c.merchant_id
    JOIN incidents_incident i ON i.id = c.incident_id
    LEFT JOIN settlements_settlementitem si ON si.claim_id = c.id AND si.status <> 'removed'
    LEFT JOIN settlements_settlementbatch b ON b.id = si.batch_id
    WHERE c.state IN ('accepted', 'settled') AND c.approved_amount IS NOT NULL
      AND c.accepted_at >= %s AND c.accepted_at < %s
    ORDER BY c.accepted_at, c.id
) TO STDOUT WITH (FORMAT csv)
"""


def baseline_csv():
    size = 0
    with connection.cursor() as c, c.cursor.copy(BASELINE_SQL, list(exports._day_bounds(START, END))) as copy:
        for block in copy:
            size += len(block)
    return size


def xlsx_run(limit, *, trace):
    rows = itertools.islice(exports.ledger_rows(START, END), limit + 1)
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with exports.xlsx_file(rows, "ledger") as handle:
        handle.seek(0, io.SEEK_END)
        size = handle.tell()
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()
    return elapsed, peak, size


def deep_cursor_url(depth):
    """The API's ``next`` link as it reads ``depth`` claims down the newest-first list (what a
    client following ``next`` reaches after depth / 50 pages), built directly."""
    from claims.models import Claim

    claim = Claim.objects.order_by("-created_at", "-id")[depth - 1]
    cursor = base64.b64encode(urlencode({"p": str(claim.created_at)}).encode("ascii")).decode("ascii")
    return f"/api/claims/claims/?cursor={cursor}"


def offset_list(depth):
    """What a page-number page at that depth made PostgreSQL do (before: OFFSET over the index)."""
    from claims.models import Claim

    return list(Claim.objects.order_by("-created_at", "-id")[depth : depth + 50].values_list("pk", flat=True))


def pages(client, label):
    from claims.models import Claim

    total = Claim.objects.count()
    depth = max(50, total // 2 // 50 * 50)
    for url in ("/console/claims/", "/api/claims/claims/", deep_cursor_url(depth)):
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as ctx:
            elapsed, response = timed(lambda u=url: client.get(u), repeat=5)
        assert response.status_code == 200, (url, response.status_code)
        shown = url if "cursor" not in url else f"api page {depth // 50 + 1} (cursor)"
        print(
            f"{label:<14} {total:>7,} claims  {shown:<32} {elapsed * 1000:7.1f} ms  "
            f"{len(ctx.captured_queries) // 5:>2} queries  {len(response.content) / 1024:6.1f} KB",
            flush=True,
        )
    # The ratios from alternated runs (best of 7 each), so that a busy spell hits both alike.
    deep_url, runs = deep_cursor_url(depth), {"first": [], "deep": [], "offset": [], "top": []}
    for _ in range(7):
        for key, fn in (
            ("first", lambda: client.get("/api/claims/claims/")),
            ("deep", lambda: client.get(deep_url)),
            ("offset", lambda: offset_list(depth)),
            ("top", lambda: offset_list(0)),
        ):
            runs[key].append(timed(fn, repeat=1)[0])
    first, deep, offset, top = (min(runs[k]) for k in ("first", "deep", "offset", "top"))
    print(
        f"{label:<14} {total:>7,} claims  API page {depth // 50 + 1} / page 1: "
        f"{deep * 1000:.1f} / {first * 1000:.1f} ms = {deep / first:.2f}x"
        f" | before, the page's OFFSET {depth:,} query alone {offset * 1000:.1f} ms vs {top * 1000:.1f} ms at"
        f" OFFSET 0 ({offset / top:.1f}x)",
        flush=True,
    )


def main():
    from django.contrib.auth.models import Group, User

    support = User.objects.create_user("bench-support")
    support.groups.add(Group.objects.get(name="support"))
    client = Client()
    client.force_login(support)
    started = time.perf_counter()
    populate(500)
    pages(client, "small data")
    populate(N - 500, offset=500)
    print(f"populated {N:,} claims in {time.perf_counter() - started:.1f} s", flush=True)
    pages(client, "full data")

    rows = int(N * 0.3)
    figures = {}
    for _ in range(3):  # alternated, so a busy spell on the machine hits all three alike
        for label, fn in (("now", ledger_csv), ("python", ledger_csv_python), ("copy", baseline_csv)):
            elapsed, size = timed(fn, repeat=1)
            best = figures.get(label)
            figures[label] = (elapsed, size) if best is None else (min(best[0], elapsed), size)
    (project, size), (before, _), (base, base_size) = figures["now"], figures["python"], figures["copy"]
    print(
        f"ledger CSV     {rows:>7,} rows  {project:6.2f} s = {rows / project:>9,.0f} rows/s ({size / 1e6:.1f} MB)"
        f" | one SQL COPY of the same columns {base:6.2f} s = {rows / base:>9,.0f} rows/s ({base_size / 1e6:.1f} MB)"
        f" -> {project / base:.2f}x | before (Python rows + csv module) {before:6.2f} s = {rows / before:>9,.0f}"
        f" rows/s -> now {before / project:.1f}x faster",
        flush=True,
    )
    for limit in (rows // 10, rows):
        elapsed, _, size = xlsx_run(limit, trace=False)
        _, peak, _ = xlsx_run(limit, trace=True)  # tracing slows Python down: timed separately
        print(
            f"ledger XLSX    {limit:>7,} rows  {elapsed:6.2f} s = {limit / elapsed:>9,.0f} rows/s, "
            f"peak Python memory {peak / 2**20:5.1f} MiB, file {size / 1e6:.1f} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
