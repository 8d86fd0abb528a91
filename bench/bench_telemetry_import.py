"""Import a month of 5-minute telemetry windows for 20 services × 10 regions (1,728,000 rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/claims .venv/bin/python bench/bench_telemetry_import.py

Runs in its own ``bench_`` database. In one run it times, on the same file: a raw ``COPY`` of
the file into a plain typed table with no checks or keys (the floor), ``import_telemetry``
fresh (all inserts), again (nothing changes) and with 1 % of the rows changed, and incident
detection over the month for every service; each import is shown as a ratio to the raw COPY.
"""

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _setup  # noqa: F401
from django.db import connection

from config.celery import app
from incidents.models import Provider, Region, Service
from telemetry.detection import detect_for_spans
from telemetry.services import COLUMNS, import_csv

SERVICES, REGIONS, DAYS, MINUTES = 20, 10, 30, 5
ROWS = SERVICES * REGIONS * DAYS * 24 * 60 // MINUTES
T0 = datetime(2026, 11, 1, tzinfo=UTC) - timedelta(hours=8)

_RAW_SQL = """
CREATE TABLE bench_raw_telemetry (
    service text, region text, window_start timestamptz, window_minutes int, requests bigint,
    failed_requests bigint, stall_rate_percent numeric, join_p95_ms numeric, hd_share_percent numeric,
    peak_concurrent bigint)
"""


def write_file(path: Path, changed_share: float = 0.0) -> None:
    rnd = random.Random(11)
    starts = [(T0 + timedelta(minutes=MINUTES * i)).isoformat() for i in range(DAYS * 24 * 60 // MINUTES)]
    with path.open("w") as out:
        out.write(",".join(COLUMNS) + "\n")
        for s in range(SERVICES):
            for r in range(REGIONS):
                lines = []
                for i, start in enumerate(starts):
                    requests = 2000 + (i * 7 + s * 13 + r) % 900
                    failed = (i + s + r) % 3
                    if changed_share and rnd.random() < changed_share:
                        failed += 1
                    lines.append(
                        f"bench-s{s},bench-r{r},{start},{MINUTES},{requests},{failed},"
                        f"0.{(i + r) % 90:02d},{400 + (i + s) % 200},{85 + (i % 10)},{requests * 3}\n"
                    )
                out.write("".join(lines))


_TABLE_COLUMNS = (
    "service_id, region_id, window_start, window_minutes, requests, failed_requests, stall_rate_percent, "
    "join_p95_ms, hd_share_percent, peak_concurrent, source, updated_at"
)


def _copy_into_keyed_table(dump: Path) -> float:
    """The floor of writing these rows where they live: COPY (already typed, no checks of ours)
    into a copy of telemetry_telemetrywindow with the same indexes, checks and reference trigger."""
    with connection.cursor() as cursor:
        with (
            dump.open("wb") as out,
            cursor.cursor.copy(f"COPY (SELECT {_TABLE_COLUMNS} FROM telemetry_telemetrywindow) TO STDOUT") as copy,
        ):
            for chunk in copy:
                out.write(chunk)
        cursor.execute("CREATE TABLE bench_keyed (LIKE telemetry_telemetrywindow INCLUDING ALL)")
        cursor.execute(
            "CREATE TRIGGER bench_keyed_refs AFTER INSERT ON bench_keyed REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION telemetry_check_refs()"
        )
        started = time.perf_counter()
        with dump.open("rb") as handle, cursor.cursor.copy(f"COPY bench_keyed ({_TABLE_COLUMNS}) FROM STDIN") as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_keyed")
    return elapsed


def main():
    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"  # detection is timed on its own below
    provider = Provider.objects.create(name="Bench provider", kind="rtc")
    services = [Service.objects.create(provider=provider, code=f"bench-s{s}", name=f"S{s}") for s in range(SERVICES)]
    for r in range(REGIONS):
        Region.objects.create(code=f"bench-r{r}", name=f"R{r}")
    with tempfile.TemporaryDirectory() as tmp:
        path, changed = Path(tmp) / "telemetry.csv", Path(tmp) / "changed.csv"
        write_file(path)
        write_file(changed, 0.01)
        print(f"file: {ROWS:,} rows ({path.stat().st_size / 1e6:.0f} MB)")

        with connection.cursor() as cursor:
            cursor.execute(_RAW_SQL)
            started = time.perf_counter()
            with path.open("rb") as handle:
                handle.readline()
                with cursor.cursor.copy("COPY bench_raw_telemetry FROM STDIN (FORMAT csv)") as copy:
                    while chunk := handle.read(1 << 20):
                        copy.write(chunk)
            baseline = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_raw_telemetry")
        print(f"raw COPY into a plain typed table      {baseline:6.1f}s  (1.0×)")

        for label, file in (("fresh (inserts)", path), ("re-import (no change)", path), ("1% changed", changed)):
            started = time.perf_counter()
            result = import_csv(path_or_file=str(file))
            elapsed = time.perf_counter() - started
            print(
                f"import_telemetry {label:<22} {elapsed:6.1f}s  ({elapsed / baseline:.1f}× raw COPY)  "
                f"{result.created:,} created, {result.updated:,} updated, {result.unchanged:,} unchanged"
            )
        keyed = _copy_into_keyed_table(Path(tmp) / "rows.txt")
        print(f"raw COPY of the typed rows into a table with the same keys, checks, triggers  {keyed:6.1f}s")
        month_end = T0 + timedelta(days=DAYS)
        started = time.perf_counter()
        detect_for_spans(spans={s.pk: (T0, month_end) for s in services})
        print(f"incident detection, {SERVICES} services × 1 month      {time.perf_counter() - started:6.1f}s")


if __name__ == "__main__":
    main()
