"""Import 1,000,000 per-minute metric rows through `manage.py import_metrics` (COPY + one upsert).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/claims_loss .venv/bin/python bench/bench_import_metrics.py

Creates merchants/sessions prefixed ``bench-imp-``, imports a fresh 1M-row file (all inserts),
re-imports it (nothing changes), re-imports it with 1% of the rows changed, then deletes its data.
Target: each import under 60 s on a 2-core machine.
"""

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _setup  # noqa: F401
from django.core.management import call_command
from django.db import connection

from merchants.services import import_csv

ROWS = 1_000_000
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
            started = time.perf_counter()
            result = import_csv("metrics", str(path))
            elapsed = time.perf_counter() - started
            print(
                f"import_metrics {label:<22} {result.rows:>9,} rows  {result.created:>9,} created "
                f"{result.updated:>7,} updated {result.unchanged:>9,} unchanged  {elapsed:6.1f}s "
                f"({result.rows / elapsed:,.0f} rows/s)  {'OK' if elapsed < 60 else 'OVER 60s'}"
            )
    cleanup()


def _merchants_file(folder: Path) -> str:
    path = folder / "merchants.csv"
    path.write_text(
        "code,name,timezone,margin_rate,currency\n"
        + "".join(f"{PREFIX}m{i},Bench {i},Asia/Shanghai,,CNY\n" for i in range(200))
    )
    return str(path)


if __name__ == "__main__":
    main()
