"""Import 1,000,000 per-minute metric rows (``import_metrics``) beside raw ``COPY`` of the same file.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/claims .venv/bin/python bench/bench_import_metrics.py

Creates merchants/sessions prefixed ``bench-imp-``, then for a fresh 1M-row file (all inserts),
the same file again (nothing changes) and the file with 1% of the rows changed, prints the
import's time and WAL next to two baselines measured right before it on the same bytes:
``COPY`` into an unindexed table, and ``COPY`` into a table keyed by (session, minute).
``BENCH_ROWS`` sets the file size. Goals: fresh ≤ 3× raw COPY, re-import ≤ 1.5× and ~no WAL.
"""

import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _setup  # noqa: F401
from django.core.management import call_command
from django.db import connection

from merchants.services import create_metric_partitions, import_csv

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))
MINUTES = 240
SESSIONS = ROWS // MINUTES + (1 if ROWS % MINUTES else 0)
PREFIX = "bench-imp-"
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def cleanup():
    with connection.cursor() as c:
        c.execute(
            "DELETE FROM merchants_sessionminute WHERE session_id IN "
            "(SELECT id FROM merchants_livesession WHERE external_id LIKE %s)",
            [PREFIX + "%"],
        )
        c.execute("DELETE FROM merchants_livesession WHERE external_id LIKE %s", [PREFIX + "%"])
        c.execute("DELETE FROM merchants_merchant WHERE code LIKE %s", [PREFIX + "%"])


def write_files(folder: Path, changed_share: float = 0.0) -> tuple[Path, Path]:
    rnd = random.Random(7)
    sessions = folder / "sessions.csv"
    with sessions.open("w") as out:
        out.write("merchant_code,merchant_name,session_id,service,region,started_at,ended_at\n")
        for s in range(SESSIONS):
            start = T0 + timedelta(hours=s % 500)
            out.write(
                f"{PREFIX}m{s % 200},Bench {s % 200},{PREFIX}{s},rtc-video,cn-east,"
                f"{start.isoformat()},{(start + timedelta(minutes=MINUTES)).isoformat()}\n"
            )
    metrics = folder / f"metrics-{changed_share}.csv"
    with metrics.open("w") as out:
        out.write("session_id,minute,viewers,orders,gmv,ad_spend\n")
        n = 0
        for s in range(SESSIONS):
            start = T0 + timedelta(hours=s % 500)
            for m in range(MINUTES):
                if n == ROWS:
                    break
                n += 1
                gmv = (s * 7 + m * 13) % 5000 + 0.5
                if changed_share and rnd.random() < changed_share:
                    gmv += 1
                minute = (start + timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:00Z")
                out.write(f"{PREFIX}{s},{minute},{100 + m},{m % 7},{gmv:.2f},{(m % 10) / 2:.2f}\n")
    return sessions, metrics


def main():
    cleanup()
    # As in production, the days of the file have their partitions (beat creates them ahead).
    create_metric_partitions(first=T0.date(), last=(T0 + timedelta(hours=500, minutes=MINUTES)).date())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sessions, metrics = write_files(folder)
        _, changed = write_files(folder, 0.01)
        print(f"files written: {SESSIONS} sessions, {ROWS:,} metric rows ({metrics.stat().st_size / 1e6:.0f} MB)")
        started = time.perf_counter()
        call_command("import_merchants", _merchants_file(folder))
        call_command("import_sessions", str(sessions))
        print(f"merchants + sessions: {time.perf_counter() - started:.1f}s")
        for label, path in (("fresh (inserts)", metrics), ("re-import (no change)", metrics), ("1% changed", changed)):
            raw, raw_wal = raw_copy(path, keyed=False)
            keyed, keyed_wal = raw_copy(path, keyed=True)
            wal, xid = _wal(), _xid()
            started = time.perf_counter()
            result = import_csv(kind="metrics", source=str(path))
            elapsed = time.perf_counter() - started
            wal, written = _wal() - wal, _written_since(xid)
            print(
                f"import_metrics {label:<22} {result.rows:>9,} rows {result.created:>9,} created "
                f"{result.updated:>7,} updated {result.unchanged:>9,} unchanged: {elapsed:5.2f} s, "
                f"{written:>9,} rows written, WAL {wal / 1e6:6.1f} MB"
                f" | raw COPY {raw:5.2f} s (WAL {raw_wal / 1e6:5.1f} MB) -> {elapsed / raw:4.1f}x"
                f" | COPY into keyed table {keyed:5.2f} s (WAL {keyed_wal / 1e6:5.1f} MB) -> {elapsed / keyed:4.1f}x",
                flush=True,
            )
    cleanup()


def raw_copy(path: Path, *, keyed: bool) -> tuple[float, int]:
    """The baseline: the file's bytes COPYed into a fresh table of the target's column types."""
    key = ", PRIMARY KEY (session_ext, minute)" if keyed else ""
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_raw_copy")
        c.execute(
            "CREATE TABLE bench_raw_copy (session_ext text, minute timestamptz, viewers integer, orders integer,"
            f" gmv numeric(14, 2), ad_spend numeric(14, 2){key})"
        )
    wal = _wal()
    started = time.perf_counter()
    with (
        connection.cursor() as c,
        path.open("rb") as handle,
        c.cursor.copy("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
    ):
        while block := handle.read(1 << 20):
            copy.write(block)
    elapsed = time.perf_counter() - started
    wal = _wal() - wal
    with connection.cursor() as c:
        c.execute("DROP TABLE bench_raw_copy")
    return elapsed, wal


def _xid() -> int:
    with connection.cursor() as c:
        c.execute("SELECT txid_current()")
        return int(c.fetchone()[0])


def _written_since(xid: int) -> int:
    """Metric rows inserted or rewritten by transactions after ``xid`` (exact, unlike WAL,
    which the whole server shares)."""
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM merchants_sessionminute WHERE age(xmin) < txid_current() - %s", [xid])
        return c.fetchone()[0]


def _wal() -> int:
    """WAL bytes written by the whole server meanwhile (other databases' work included)."""
    with connection.cursor() as c:
        c.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(c.fetchone()[0])


def _merchants_file(folder: Path) -> str:
    path = folder / "merchants.csv"
    path.write_text(
        "code,name,timezone,margin_rate,currency\n"
        + "".join(f"{PREFIX}m{i},Bench {i},Asia/Shanghai,,CNY\n" for i in range(200))
    )
    return str(path)


if __name__ == "__main__":
    main()
