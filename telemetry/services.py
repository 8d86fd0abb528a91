"""Ingest of telemetry windows: CSV files, webhook batches, API posts and monitoring pulls.

Every channel ends in :func:`ingest_windows` (rows as mappings) or :func:`import_csv` (a file).
A batch is validated whole and written in one transaction: one bad row and nothing is stored;
the error names the row's line (CSV: the file's line, header = 1; a batch: the row's 1-based
position) and its column. Rows are upserted by (service, region, window_start); a row equal to
the stored one is not written, so delivering the same data again changes nothing.

On PostgreSQL the rows stream through ``COPY`` into a temporary text table; one query casts and
checks them all, and only when it finds a problem does a slower per-column query look for the
first bad row to name it. One ``INSERT … ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM``
then writes them. Other databases (the SQLite demo) validate in Python and use the ORM.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from django.db import DataError, ProgrammingError, connection, transaction
from django.utils import timezone

from core.csv import CsvRejected
from core.errors import RowError
from incidents.models import Region, Service

from .models import TelemetryWindow

COLUMNS = [
    "service",
    "region",
    "window_start",
    "window_minutes",
    "requests",
    "failed_requests",
    "stall_rate_percent",
    "join_p95_ms",
    "hd_share_percent",
    "peak_concurrent",
]
REQUIRED = COLUMNS[:6]
_METRICS = ["stall_rate_percent", "join_p95_ms", "hd_share_percent", "peak_concurrent"]
_CHUNK = 1 << 20

_TIME_RE = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d(:00(\.0+)?)?"
    r"(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)$"
)
_COUNT_RE = re.compile(r"^\d{1,18}$")
_PERCENT_RE = re.compile(r"^\d{1,3}(\.\d{1,4})?$")
_MS_RE = re.compile(r"^\d{1,9}(\.\d{1,3})?$")

TIME_HINT = "expected an ISO 8601 time on a whole minute with its offset, e.g. 2026-11-01T00:05:00+08:00"
MESSAGES = {
    "required": "required",
    "service": "unknown service",
    "region": "unknown region",
    "window_start": TIME_HINT,
    "window_minutes": "expected a whole number of minutes from 1 to 1440",
    "requests": "expected a whole number ≥ 0",
    "failed_requests": "expected a whole number ≥ 0 and not more than requests",
    "stall_rate_percent": "expected a percentage from 0 to 100 with at most 4 decimals",
    "join_p95_ms": "expected milliseconds ≥ 0 with at most 3 decimals",
    "hd_share_percent": "expected a percentage from 0 to 100 with at most 4 decimals",
    "peak_concurrent": "expected a whole number ≥ 0",
    "duplicate": "this service, region and window_start appear twice in the data",
}


class TelemetryInputError(CsvRejected):
    """A bad row: ``line`` (CSV: line of the file; batch: 1-based row number; 0: the whole input)
    and ``column`` (a column name, or ``file``); the project's one CSV error, built from one row error."""

    def __init__(self, line: int, column: str, message: str):
        super().__init__([RowError(line, column, message)])


@dataclass
class IngestResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Per service id: the earliest window start and latest window end touched, for detection.
    spans: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def ingest_windows(*, rows: Iterable[Mapping[str, Any]], source: str) -> IngestResult:
    """Store telemetry windows, all or nothing, upserting by (service, region, window_start).

    Stable interface for every producer (webhook, API, monitoring pulls). Each row is a mapping
    with the CSV column names:

    - ``service``, ``region``: codes of an existing ``incidents.Service`` / ``Region``;
    - ``window_start``: an aware ``datetime`` or ISO 8601 text with an offset, on a whole minute;
    - ``window_minutes``: 1–1440; ``requests``, ``failed_requests``: whole numbers,
      ``failed_requests ≤ requests``;
    - optional (missing, ``None`` or ``""``): ``stall_rate_percent`` and ``hd_share_percent``
      (0–100, ≤ 4 decimals), ``join_p95_ms`` (≥ 0, ≤ 3 decimals), ``peak_concurrent`` (whole ≥ 0).
      Numbers are ``int``, ``Decimal`` or text; a ``float`` is refused (quantize it first), so
      no binary rounding enters the rules.

    ``source`` (e.g. ``"prometheus"``, ``"webhook:statuswatch"``) is stored on each row written.
    Raises :class:`TelemetryInputError` naming the row (1-based) and column; nothing is stored
    then. Returns counts of created / updated / unchanged rows. After commit, incident detection
    runs for the services and time span touched (``telemetry.tasks.after_ingest``).
    """
    texts = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise TelemetryInputError(number, "row", "expected an object with the telemetry columns")
        unknown = sorted(set(row) - set(COLUMNS))
        if unknown:
            raise TelemetryInputError(number, unknown[0], "unknown column")
        texts.append(tuple(_as_text(row.get(name), number, name) for name in COLUMNS))
    return _ingest_texts(texts, source=source, line_offset=0)


def import_csv(*, path_or_file: str | Path | BinaryIO, source: str = "csv") -> IngestResult:
    """Import one CSV file (a path or a binary file object) with the header :data:`COLUMNS`."""
    if isinstance(path_or_file, str | Path):
        with open(path_or_file, "rb") as handle:
            return import_csv(path_or_file=handle, source=source)
    stream = path_or_file
    header_line = stream.readline()
    if header_line.startswith(codecs.BOM_UTF8):
        header_line = header_line[len(codecs.BOM_UTF8) :]
    try:
        header = next(csv.reader([header_line.decode("utf-8")]), [])
    except UnicodeDecodeError as exc:
        raise TelemetryInputError(1, "file", "the header is not UTF-8 text") from exc
    header = [name.strip() for name in header]
    if header != COLUMNS:
        raise TelemetryInputError(1, "header", f"expected the columns {','.join(COLUMNS)}")
    if connection.vendor == "postgresql":
        return _ingest_pg(lambda copy: _copy_file(copy, stream), source=source, line_offset=1, csv_format=True)
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    rows = []
    try:
        for number, values in enumerate(csv.reader(text), start=2):
            if len(values) != len(COLUMNS):
                raise TelemetryInputError(number, "file", f"expected {len(COLUMNS)} fields, found {len(values)}")
            rows.append(tuple(values))
    except UnicodeDecodeError as exc:
        raise TelemetryInputError(len(rows) + 2, "file", "not UTF-8 text") from exc
    return _ingest_texts(rows, source=source, line_offset=1)


def _as_text(value: Any, number: int, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | float):
        raise TelemetryInputError(number, name, "floating-point numbers are not accepted; send text or an integer")
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            raise TelemetryInputError(number, name, TIME_HINT)
        return value.isoformat()
    if isinstance(value, int | Decimal | str):
        return str(value).strip()
    raise TelemetryInputError(number, name, "unexpected type")


def _ingest_texts(rows: list[tuple[str, ...]], *, source: str, line_offset: int) -> IngestResult:
    if connection.vendor == "postgresql":

        def feed(copy):
            for row in rows:
                copy.write_row([value if value != "" else None for value in row])

        return _ingest_pg(feed, source=source, line_offset=line_offset, csv_format=False)
    return _ingest_portable(rows, source=source, line_offset=line_offset)


def _schedule_detection(result: IngestResult) -> None:
    if not result.spans:
        return
    from .tasks import after_ingest

    spans = {str(sid): [start.isoformat(), end.isoformat()] for sid, (start, end) in result.spans.items()}
    transaction.on_commit(lambda: after_ingest.delay(spans))


# --- PostgreSQL: COPY, one checking query, one upsert ---------------------------------------

_STAGE_SQL = """
CREATE TEMPORARY TABLE telemetry_stage (
    n bigint GENERATED ALWAYS AS IDENTITY,
    service text, region text, window_start text, window_minutes integer, requests bigint,
    failed_requests bigint, stall_rate_percent numeric, join_p95_ms numeric, hd_share_percent numeric,
    peak_concurrent bigint
) ON COMMIT DROP
"""
_STAGE_COLUMNS = ", ".join(COLUMNS)

# COPY has read every number (naming the line and column of one it could not); this reads the
# times once into a typed table (an unreadable time raises: the detailed check then names it).
_TYPED_SQL = r"""
CREATE TEMPORARY TABLE telemetry_typed ON COMMIT DROP AS
SELECT s.n, sv.id AS service_id, rg.id AS region_id, s.window_start::timestamptz AS window_start,
       s.window_start ~ '(Z|[+-]\d\d(:?\d\d)?)$' AS has_offset, s.window_minutes, s.requests,
       s.failed_requests, s.stall_rate_percent, s.join_p95_ms, s.hd_share_percent, s.peak_concurrent
FROM telemetry_stage s
LEFT JOIN incidents_service sv ON sv.code = s.service
LEFT JOIN incidents_region rg ON rg.code = s.region
"""

# Whether any row breaks a rule (then the detailed check names the first one).
_FAST_CHECK_SQL = """
SELECT min(n) FROM telemetry_typed
WHERE service_id IS NULL OR region_id IS NULL OR window_start IS NULL OR NOT has_offset
   OR date_trunc('minute', window_start) <> window_start
   OR window_minutes IS NULL OR window_minutes NOT BETWEEN 1 AND 1440
   OR requests IS NULL OR failed_requests IS NULL OR failed_requests < 0 OR failed_requests > requests
   OR stall_rate_percent NOT BETWEEN 0 AND 100 OR stall_rate_percent <> round(stall_rate_percent, 4)
   OR hd_share_percent NOT BETWEEN 0 AND 100 OR hd_share_percent <> round(hd_share_percent, 4)
   OR join_p95_ms NOT BETWEEN 0 AND 999999999 OR join_p95_ms <> round(join_p95_ms, 3)
   OR peak_concurrent < 0
"""

# The first bad row and column, without casting anything that could fail.
_DETAIL_CHECK_SQL = r"""
WITH checked AS (
    SELECT s.n, CASE
        WHEN coalesce(s.service, '') = '' THEN 'service|required'
        WHEN sv.id IS NULL THEN 'service|service'
        WHEN coalesce(s.region, '') = '' THEN 'region|required'
        WHEN rg.id IS NULL THEN 'region|region'
        WHEN coalesce(s.window_start, '') = '' THEN 'window_start|required'
        WHEN s.window_start !~ %(time_re)s THEN 'window_start|window_start'
        WHEN substr(s.window_start, 9, 2)::int > extract(day from (make_date(substr(s.window_start, 1, 4)::int,
             substr(s.window_start, 6, 2)::int, 1) + interval '1 month - 1 day')) THEN 'window_start|window_start'
        WHEN s.window_minutes IS NULL THEN 'window_minutes|required'
        WHEN s.window_minutes NOT BETWEEN 1 AND 1440 THEN 'window_minutes|window_minutes'
        WHEN s.requests IS NULL THEN 'requests|required'
        WHEN s.requests < 0 THEN 'requests|requests'
        WHEN s.failed_requests IS NULL THEN 'failed_requests|required'
        WHEN s.failed_requests < 0 OR s.failed_requests > s.requests THEN 'failed_requests|failed_requests'
        WHEN s.stall_rate_percent NOT BETWEEN 0 AND 100 OR s.stall_rate_percent <> round(s.stall_rate_percent, 4)
            THEN 'stall_rate_percent|stall_rate_percent'
        WHEN s.join_p95_ms NOT BETWEEN 0 AND 999999999 OR s.join_p95_ms <> round(s.join_p95_ms, 3)
            THEN 'join_p95_ms|join_p95_ms'
        WHEN s.hd_share_percent NOT BETWEEN 0 AND 100 OR s.hd_share_percent <> round(s.hd_share_percent, 4)
            THEN 'hd_share_percent|hd_share_percent'
        WHEN s.peak_concurrent < 0 THEN 'peak_concurrent|peak_concurrent'
    END AS problem, s.service, s.region
    FROM telemetry_stage s
    LEFT JOIN incidents_service sv ON sv.code = s.service
    LEFT JOIN incidents_region rg ON rg.code = s.region
)
SELECT n, problem, service, region FROM checked WHERE problem IS NOT NULL ORDER BY n LIMIT 1
"""

_DUPLICATE_SQL = """
SELECT max(n) FROM telemetry_typed
GROUP BY service_id, window_start, region_id HAVING count(*) > 1
ORDER BY 1 LIMIT 1
"""

# Changed rows first, then new ones by an anti-join (a plain INSERT: cheaper than ON CONFLICT).
_UPDATE_SQL = """
WITH up AS (
    UPDATE telemetry_telemetrywindow w SET
        window_minutes = t.window_minutes, requests = t.requests, failed_requests = t.failed_requests,
        stall_rate_percent = t.stall_rate_percent, join_p95_ms = t.join_p95_ms,
        hd_share_percent = t.hd_share_percent, peak_concurrent = t.peak_concurrent,
        source = %(source)s, updated_at = now()
    FROM telemetry_typed t
    WHERE w.service_id = t.service_id AND w.window_start = t.window_start AND w.region_id = t.region_id
      AND (w.window_minutes, w.requests, w.failed_requests, w.stall_rate_percent, w.join_p95_ms,
           w.hd_share_percent, w.peak_concurrent)
        IS DISTINCT FROM (t.window_minutes, t.requests, t.failed_requests, t.stall_rate_percent, t.join_p95_ms,
           t.hd_share_percent, t.peak_concurrent)
    RETURNING w.service_id, w.window_start, w.window_start + w.window_minutes * interval '1 minute' AS window_end
)
SELECT service_id, min(window_start), max(window_end), count(*) FROM up GROUP BY service_id
"""

_INSERT_SQL = """
WITH ins AS (
    INSERT INTO telemetry_telemetrywindow (
        service_id, region_id, window_start, window_minutes, requests, failed_requests,
        stall_rate_percent, join_p95_ms, hd_share_percent, peak_concurrent, source, updated_at)
    SELECT t.service_id, t.region_id, t.window_start, t.window_minutes, t.requests, t.failed_requests,
           t.stall_rate_percent, t.join_p95_ms, t.hd_share_percent, t.peak_concurrent, %(source)s, now()
    FROM telemetry_typed t
    WHERE NOT EXISTS (
        SELECT 1 FROM telemetry_telemetrywindow w
        WHERE w.service_id = t.service_id AND w.window_start = t.window_start AND w.region_id = t.region_id)
    ORDER BY t.service_id, t.window_start, t.region_id
    RETURNING service_id, window_start, window_start + window_minutes * interval '1 minute' AS window_end
)
SELECT service_id, min(window_start), max(window_end), count(*) FROM ins GROUP BY service_id
"""

_COPY_ERROR_LINE = re.compile(r"line (\d+)")
_COPY_ERROR_CONTEXT_COLUMN = re.compile(r"line \d+, column (\w+)")
_COPY_ERROR_COLUMN = re.compile(r'column "?(\w+)"?')


def _copy_file(copy, stream) -> None:
    while chunk := stream.read(_CHUNK):
        copy.write(chunk)


def _copy_error(exc: Exception, line_offset: int) -> TelemetryInputError:
    """Name the line of a file ``COPY`` could not read (wrong field count, bytes not UTF-8)."""
    cause = exc.__cause__ or exc
    diag = getattr(cause, "diag", None)
    context = (getattr(diag, "context", None) or "") + " " + str(cause)
    line = _COPY_ERROR_LINE.search(context)
    column = _COPY_ERROR_CONTEXT_COLUMN.search(context) or _COPY_ERROR_COLUMN.search(
        getattr(diag, "message_primary", None) or str(cause)
    )
    message = (getattr(diag, "message_primary", None) or str(cause)).strip()
    if "invalid byte sequence" in message:
        message = "not UTF-8 text"
    elif column and column.group(1) in MESSAGES and ("input syntax" in message or "out of range" in message):
        message = MESSAGES[column.group(1)]
    return TelemetryInputError(
        int(line.group(1)) + line_offset if line else 0,
        column.group(1) if column and column.group(1) in COLUMNS else "file",
        message,
    )


def _raise_first_problem(cursor, line_offset: int) -> None:
    cursor.execute(_DETAIL_CHECK_SQL, {"time_re": _TIME_RE.pattern})
    found = cursor.fetchone()
    if found is None:  # pragma: no cover - the fast check and this one agree
        raise TelemetryInputError(0, "file", "a value was refused by the database")
    n, problem, service, region = found
    column, key = problem.split("|")
    message = MESSAGES[key]
    if key == "service":
        message = f"{message} {service!r}"
    elif key == "region":
        message = f"{message} {region!r}"
    raise TelemetryInputError(n + line_offset, column, message)


def _ingest_pg(feed, *, source: str, line_offset: int, csv_format: bool) -> IngestResult:
    result = IngestResult()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS telemetry_typed")
        cursor.execute("DROP TABLE IF EXISTS telemetry_stage")
        cursor.execute(_STAGE_SQL)
        options = " (FORMAT csv, ENCODING 'UTF8')" if csv_format else ""
        try:
            copy_sql = f"COPY telemetry_stage ({_STAGE_COLUMNS}) FROM STDIN{options}"
            with transaction.atomic(), cursor.cursor.copy(copy_sql) as copy:
                feed(copy)
        except (DataError, ProgrammingError, psycopg.DataError, psycopg.ProgrammingError) as exc:
            raise _copy_error(exc, line_offset) from exc
        cursor.execute("SELECT count(*) FROM telemetry_stage")
        result.rows = cursor.fetchone()[0]
        if not result.rows:
            return result
        try:
            with transaction.atomic():
                cursor.execute(_TYPED_SQL)
        except DataError:
            _raise_first_problem(cursor, line_offset)
        cursor.execute(_FAST_CHECK_SQL)
        if cursor.fetchone()[0] is not None:
            _raise_first_problem(cursor, line_offset)
        cursor.execute("ANALYZE telemetry_typed")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(_DUPLICATE_SQL)
        dup = cursor.fetchone()
        if dup:
            raise TelemetryInputError(dup[0] + line_offset, "window_start", MESSAGES["duplicate"])
        for sql, counter in ((_UPDATE_SQL, "updated"), (_INSERT_SQL, "created")):
            cursor.execute(sql, {"source": source})
            for service_id, start, end, count in cursor.fetchall():
                setattr(result, counter, getattr(result, counter) + count)
                start0, end0 = result.spans.get(service_id, (start, end))
                result.spans[service_id] = (min(start0, start), max(end0, end))
        result.unchanged = result.rows - result.created - result.updated
        cursor.execute("DROP TABLE telemetry_typed")
        cursor.execute("DROP TABLE telemetry_stage")
        _schedule_detection(result)
    return result


# --- Other databases (the SQLite demo): the same rules in Python ------------------------------


def _check_row(values: tuple[str, ...], line: int, services: dict, regions: dict) -> dict:
    row = dict(zip(COLUMNS, (v.strip() if isinstance(v, str) else v for v in values), strict=True))
    for name in REQUIRED:
        if not row[name]:
            raise TelemetryInputError(line, name, MESSAGES["required"])
    if row["service"] not in services:
        raise TelemetryInputError(line, "service", f"{MESSAGES['service']} {row['service']!r}")
    if row["region"] not in regions:
        raise TelemetryInputError(line, "region", f"{MESSAGES['region']} {row['region']!r}")
    if not _TIME_RE.match(row["window_start"]):
        raise TelemetryInputError(line, "window_start", TIME_HINT)
    try:
        start = datetime.fromisoformat(row["window_start"].replace("Z", "+00:00"))
    except ValueError as exc:
        raise TelemetryInputError(line, "window_start", TIME_HINT) from exc
    if not re.fullmatch(r"\d{1,4}", row["window_minutes"]) or not 1 <= int(row["window_minutes"]) <= 1440:
        raise TelemetryInputError(line, "window_minutes", MESSAGES["window_minutes"])
    if not _COUNT_RE.match(row["requests"]):
        raise TelemetryInputError(line, "requests", MESSAGES["requests"])
    if not _COUNT_RE.match(row["failed_requests"]) or int(row["failed_requests"]) > int(row["requests"]):
        raise TelemetryInputError(line, "failed_requests", MESSAGES["failed_requests"])
    out = {
        "service_id": services[row["service"]],
        "region_id": regions[row["region"]],
        "window_start": start,
        "window_minutes": int(row["window_minutes"]),
        "requests": int(row["requests"]),
        "failed_requests": int(row["failed_requests"]),
    }
    for name, pattern, upper in [
        ("stall_rate_percent", _PERCENT_RE, 100),
        ("join_p95_ms", _MS_RE, None),
        ("hd_share_percent", _PERCENT_RE, 100),
        ("peak_concurrent", _COUNT_RE, None),
    ]:
        value = row[name]
        if not value:
            out[name] = None
            continue
        try:
            ok = bool(pattern.match(value)) and (upper is None or Decimal(value) <= upper)
        except InvalidOperation:
            ok = False
        if not ok:
            raise TelemetryInputError(line, name, MESSAGES[name])
        out[name] = int(value) if name == "peak_concurrent" else Decimal(value)
    return out


def _ingest_portable(rows: list[tuple[str, ...]], *, source: str, line_offset: int) -> IngestResult:
    result = IngestResult(rows=len(rows))
    services = dict(Service.objects.values_list("code", "id"))
    regions = dict(Region.objects.values_list("code", "id"))
    checked, seen = [], set()
    for number, values in enumerate(rows, start=1 + line_offset):
        row = _check_row(values, number, services, regions)
        key = (row["service_id"], row["region_id"], row["window_start"])
        if key in seen:
            raise TelemetryInputError(number, "window_start", MESSAGES["duplicate"])
        seen.add(key)
        checked.append(row)
    fields = ["window_minutes", "requests", "failed_requests", *_METRICS]
    with transaction.atomic():
        existing = {}
        if checked:
            first = min(r["window_start"] for r in checked)
            last = max(r["window_start"] for r in checked)
            stored = TelemetryWindow.objects.filter(
                service_id__in={r["service_id"] for r in checked}, window_start__gte=first, window_start__lte=last
            )
            existing = {(w.service_id, w.region_id, w.window_start): w for w in stored}
        to_create, to_update = [], []
        for row in checked:
            current = existing.get((row["service_id"], row["region_id"], row["window_start"]))
            if current is None:
                to_create.append(TelemetryWindow(source=source, **row))
            elif any(getattr(current, name) != row[name] for name in fields):
                for name in fields:
                    setattr(current, name, row[name])
                current.source = source
                current.updated_at = timezone.now()
                to_update.append(current)
            else:
                continue
            end = row["window_start"] + timedelta(minutes=row["window_minutes"])
            start0, end0 = result.spans.get(row["service_id"], (row["window_start"], end))
            result.spans[row["service_id"]] = (min(start0, row["window_start"]), max(end0, end))
        TelemetryWindow.objects.bulk_create(to_create, batch_size=2000)
        TelemetryWindow.objects.bulk_update(to_update, [*fields, "source", "updated_at"], batch_size=2000)
        result.created, result.updated = len(to_create), len(to_update)
        result.unchanged = result.rows - result.created - result.updated
        _schedule_detection(result)
    return result
