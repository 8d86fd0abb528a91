"""Writes about merchants: CSV ingestion of merchants, live sessions and per-minute metrics.

Everything goes through :func:`import_csv`. A file is validated row by row (a bad row raises
:class:`core.csv.CsvRejected` naming its line and column) and imported in one transaction, so a
file is imported whole or not at all. Rows are upserted by their natural key (merchant
``code``, session ``session_id``, metric ``(session_id, minute)``); a row equal to the stored
one is not written again, so re-importing a file changes nothing.

On PostgreSQL a metrics file first takes the *bulk path*: its bytes go unparsed through
``COPY`` into a temporary staging table, are validated in SQL (each distinct minute text is
parsed once), and only rows that are new or whose values differ are written (an anti-join
against the stored rows), so re-importing an unchanged file writes nothing. The bulk path
only accepts what the careful path below accepts; anything it is not sure about (a bad
value, an unknown session, a duplicate, an unusual header or quoting) rolls it back and the
file is imported again through the careful path, which parses every row in Python, names the
first bad line and column, and ``COPY``s into staging for one set-based upsert. Other
databases (the SQLite demo) use a portable ORM path.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
from django.contrib.auth.models import User
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import services as core_services
from core.csv import CsvReader, CsvRejected, CsvSource
from core.errors import InvalidInput, NotPermitted

from .models import PAYOUT_FIELDS, LiveSession, Merchant, SessionMinute, mask_account
from .selectors import METRIC_DEFAULT_PARTITION, is_merchant_admin, metric_partition_name, metric_partitions

MERCHANT_COLUMNS = ["code", "name", "timezone", "margin_rate", "currency"]
SESSION_COLUMNS = ["merchant_code", "merchant_name", "session_id", "service", "region", "started_at", "ended_at"]
METRIC_COLUMNS = ["session_id", "minute", "viewers", "orders", "gmv", "ad_spend"]
KINDS = {"merchants": MERCHANT_COLUMNS, "sessions": SESSION_COLUMNS, "metrics": METRIC_COLUMNS}

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
# ASCII digits only (re.ASCII): a full-width "１０" matches a Unicode \d but not COPY's numeric input.
_MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?\Z", re.ASCII)
_INT = re.compile(r"^\d{1,9}\Z", re.ASCII)
_RATE = re.compile(r"^(0(\.\d{1,4})?|1(\.0{1,4})?|\.\d{1,4})\Z", re.ASCII)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COPY_BATCH = 20_000
# Largest file the bulk API accepts (about 1.8 M metric rows); larger files: the manage.py commands.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bulk: bool = False  # imported by the PostgreSQL bulk path (not part of the answer)
    # The file's first and last minute (metrics on PostgreSQL): which day partitions it touched.
    first_minute: datetime | None = None
    last_minute: datetime | None = None

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def import_csv(*, kind: str, source: CsvSource) -> ImportResult:
    """Import one CSV file of ``kind`` (merchants, sessions or metrics), all or nothing.

    ``source`` is a path, a file object or bytes. Raises :class:`core.csv.CsvRejected`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    result = _import(kind, source)
    tables = _analyzed_tables(kind, result)
    if tables:
        transaction.on_commit(lambda: analyze(tables=tables))
    return result


def _analyzed_tables(kind: str, result: ImportResult) -> list[str]:
    """The tables whose statistics the import changed: for metrics only the day partitions of
    the file's minutes (analysing the partitioned table would sample every day of the history),
    and none when nothing was written."""
    if (
        kind != "metrics"
        or connection.vendor != "postgresql"
        or result.first_minute is None
        or result.last_minute is None
    ):
        return ANALYZED[kind]
    if not (result.created or result.updated):
        return []
    first, last = result.first_minute.astimezone(UTC).date(), result.last_minute.astimezone(UTC).date()
    return [name for name, day in metric_partitions() if first <= day <= last] + [METRIC_DEFAULT_PARTITION]


def _import(kind: str, source) -> ImportResult:
    if kind == "metrics" and connection.vendor == "postgresql":
        bulk = _import_metrics_bulk(source)
        if bulk is not None:
            return bulk
    with CsvReader(source, columns=KINDS[kind]) as reader:
        if kind == "merchants":
            return _import_merchants(reader)
        if kind == "sessions":
            return _import_sessions(reader)
        if connection.vendor == "postgresql":
            return _import_metrics_pg(reader, reader.header)
        return _import_metrics_portable(reader, reader.header)


# The tables an import of each kind fills, and the ones loss and proposal queries join them with.
ANALYZED = {
    "merchants": ["merchants_merchant", "merchants_membership", "auth_user"],
    "sessions": ["merchants_livesession"],
    "metrics": ["merchants_sessionminute"],
}


def analyze(*, tables: list[str]) -> None:
    """Refresh the planner statistics of ``tables`` right after a bulk import (PostgreSQL only).

    Autovacuum analyses a table only after enough changes and some time: until then the planner
    works from stale counts (a freshly loaded table looks empty) and picks plans that scan
    everything, which doubled the time to propose after an outage right after an import.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


# --- field parsing ---------------------------------------------------------------------


_dt_cache: dict[str, datetime] = {}


def _parse_datetime_utc(value: str, line: int, column: str, *, minute: bool = False) -> datetime:
    """ISO 8601; a time without offset is taken as UTC. ``minute``: must be a whole minute."""
    cached = _dt_cache.get(value)
    if cached is None:
        try:
            parsed = datetime.fromisoformat(value.strip())
            # 0001-01-01T00:00:00+08:00 is valid ISO 8601 but lies before the first UTC datetime.
            cached = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except ValueError:
            raise CsvRejected.at(line, column, f"not an ISO 8601 date-time: {value!r}") from None
        except OverflowError:
            raise CsvRejected.at(line, column, f"outside the supported date range: {value!r}") from None
        if len(_dt_cache) > 100_000:
            _dt_cache.clear()
        _dt_cache[value] = cached
    if minute and (cached.second or cached.microsecond):
        raise CsvRejected.at(line, column, f"not the start of a minute: {value!r}")
    return cached


def _money(value: str, line: int, column: str) -> str:
    value = value.strip()
    if not _MONEY.match(value):
        raise CsvRejected.at(line, column, f"expected a non-negative amount with at most 2 decimals, got {value!r}")
    return value


def _int(value: str, line: int, column: str) -> str:
    value = value.strip()
    if not _INT.match(value):
        raise CsvRejected.at(line, column, f"expected a non-negative whole number, got {value!r}")
    return value


def _slug(value: str, line: int, column: str) -> str:
    value = value.strip()
    if not value or len(value) > 60 or not _SLUG.match(value):
        raise CsvRejected.at(line, column, f"expected a code of letters, digits, - or _, got {value!r}")
    return value


def _session_id(value: str, line: int) -> str:
    value = value.strip()
    if not value or len(value) > 120 or any(c in value for c in "\\\t\r\n"):
        raise CsvRejected.at(line, "session_id", f"expected a session id of 1 to 120 plain characters, got {value!r}")
    return value


# --- merchants -------------------------------------------------------------------------


def _import_merchants(reader: CsvReader) -> ImportResult:
    result = ImportResult("merchants")
    parsed: dict[str, dict] = {}
    for line, (code, name, tz, margin, currency) in reader.rows():
        code = _slug(code, line, "code")
        if code in parsed:
            raise CsvRejected.at(line, "code", f"merchant {code!r} appears twice in the file")
        name = name.strip()
        if not name or len(name) > 200:
            raise CsvRejected.at(line, "name", "expected a name of 1 to 200 characters")
        tz = tz.strip() or "Asia/Shanghai"
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CsvRejected.at(line, "timezone", f"unknown time zone {tz!r}") from None
        margin = margin.strip()
        if margin and not _RATE.match(margin):
            raise CsvRejected.at(line, "margin_rate", f"expected a rate between 0 and 1 (e.g. 0.35), got {margin!r}")
        currency = currency.strip().upper() or "CNY"
        if not _CURRENCY.match(currency):
            raise CsvRejected.at(line, "currency", f"expected a 3-letter ISO currency code, got {currency!r}")
        parsed[code] = {
            "name": name,
            "timezone": tz,
            "margin_rate": Decimal(margin).quantize(Decimal("0.0001")) if margin else None,
            "currency": currency,
        }
        result.rows += 1
    with transaction.atomic():
        existing = {m.code: m for m in Merchant.objects.select_for_update().filter(code__in=list(parsed))}
        for code, values in parsed.items():
            merchant = existing.get(code)
            if merchant is None:
                Merchant.objects.create(code=code, **values)
                result.created += 1
            elif any(getattr(merchant, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(merchant, k, v)
                merchant.save(update_fields=list(values))
                result.updated += 1
            else:
                result.unchanged += 1
    return result


# --- live sessions ---------------------------------------------------------------------


def _import_sessions(reader: CsvReader) -> ImportResult:
    result = ImportResult("sessions")
    parsed: dict[str, tuple[int, dict]] = {}
    merchant_names: dict[str, tuple[int, str]] = {}
    for line, (mcode, mname, sid, service, region, started, ended) in reader.rows():
        mcode = _slug(mcode, line, "merchant_code")
        sid = _session_id(sid, line)
        if sid in parsed:
            raise CsvRejected.at(line, "session_id", f"session {sid!r} appears twice in the file")
        started_at = _parse_datetime_utc(started, line, "started_at")
        ended_at = _parse_datetime_utc(ended, line, "ended_at") if ended.strip() else None
        if ended_at is not None and ended_at <= started_at:
            raise CsvRejected.at(line, "ended_at", "must be after started_at")
        region = _slug(region, line, "region")
        if len(region) > 40:
            raise CsvRejected.at(line, "region", "at most 40 characters")
        parsed[sid] = (
            line,
            {
                "merchant_code": mcode,
                "service_code": _slug(service, line, "service"),
                "region_code": region,
                "started_at": started_at,
                "ended_at": ended_at,
            },
        )
        if mname.strip() and mcode not in merchant_names:
            merchant_names[mcode] = (line, mname.strip()[:200])
        result.rows += 1

    with transaction.atomic():
        codes = {v["merchant_code"] for _, v in parsed.values()}
        merchants = dict(Merchant.objects.filter(code__in=codes).values_list("code", "id"))
        for line, values in parsed.values():
            code = values["merchant_code"]
            if code not in merchants:
                if code not in merchant_names:
                    raise CsvRejected.at(line, "merchant_name", f"unknown merchant {code!r} and no name to create it")
                merchants[code] = Merchant.objects.create(code=code, name=merchant_names[code][1]).id
        fields = ["merchant_id", "service_code", "region_code", "started_at", "ended_at"]
        existing: dict[str, LiveSession] = {}
        ids = list(parsed)
        for start in range(0, len(ids), 5000):
            for s in LiveSession.objects.filter(external_id__in=ids[start : start + 5000]):
                existing[s.external_id] = s
        to_create, to_update = [], []
        changed_at = timezone.now()
        for sid, (_line, values) in parsed.items():
            row = {
                "merchant_id": merchants[values.pop("merchant_code")],
                **values,
            }
            session = existing.get(sid)
            if session is None:
                to_create.append(LiveSession(external_id=sid, **row))
            elif any(getattr(session, k) != v for k, v in row.items()):
                for k, v in row.items():
                    setattr(session, k, v)
                session.updated_at = changed_at  # bulk_update does not apply auto_now
                to_update.append(session)
            else:
                result.unchanged += 1
        LiveSession.objects.bulk_create(to_create, batch_size=2000)
        LiveSession.objects.bulk_update(to_update, fields + ["updated_at"], batch_size=2000)
        result.created, result.updated = len(to_create), len(to_update)
    return result


# --- per-minute metrics ----------------------------------------------------------------


def _metric_rows(reader, header) -> Iterator[tuple[int, str, datetime, str, str, str, str]]:
    for line, (sid, minute, viewers, orders, gmv, ad_spend) in reader.rows():
        yield (
            line,
            _session_id(sid, line),
            _parse_datetime_utc(minute, line, "minute", minute=True),
            _int(viewers, line, "viewers"),
            _int(orders, line, "orders"),
            _money(gmv, line, "gmv"),
            _money(ad_spend, line, "ad_spend"),
        )


_STAGE_SQL = """
CREATE TEMPORARY TABLE merchants_metric_stage (
    line integer NOT NULL, session_ext text NOT NULL, minute timestamptz NOT NULL,
    viewers integer NOT NULL, orders integer NOT NULL, gmv numeric(14, 2) NOT NULL, ad_spend numeric(14, 2) NOT NULL
) ON COMMIT DROP
"""

_UNKNOWN_SESSION_SQL = """
SELECT s.line, s.session_ext FROM merchants_metric_stage s
WHERE NOT EXISTS (SELECT 1 FROM merchants_livesession l WHERE l.external_id = s.session_ext)
ORDER BY s.line LIMIT 1
"""

_DUPLICATE_SQL = """
SELECT min(line) FROM (
    SELECT line, row_number() OVER (PARTITION BY session_ext, minute ORDER BY line) AS n FROM merchants_metric_stage
) d WHERE n > 1
"""

# The upsert in two statements, since a partitioned table cannot return ``xmax`` to tell an
# inserted row from an updated one: new rows first (a row another import inserted meanwhile is
# skipped here after waiting for it), then every stored row whose values differ from the file's.
_CAREFUL_INSERT_SQL = """
INSERT INTO merchants_sessionminute (session_id, minute, viewers, orders, gmv, ad_spend)
SELECT l.id, s.minute, s.viewers, s.orders, s.gmv, s.ad_spend
FROM merchants_metric_stage s JOIN merchants_livesession l ON l.external_id = s.session_ext
ON CONFLICT (session_id, minute) DO NOTHING
"""

_CAREFUL_UPDATE_SQL = """
UPDATE merchants_sessionminute m
SET viewers = s.viewers, orders = s.orders, gmv = s.gmv, ad_spend = s.ad_spend
FROM merchants_metric_stage s JOIN merchants_livesession l ON l.external_id = s.session_ext
WHERE m.session_id = l.id AND m.minute = s.minute
  AND m.minute BETWEEN (SELECT min(minute) FROM merchants_metric_stage)
                   AND (SELECT max(minute) FROM merchants_metric_stage)
  AND (m.viewers, m.orders, m.gmv, m.ad_spend) IS DISTINCT FROM (s.viewers, s.orders, s.gmv, s.ad_spend)
"""


def _import_metrics_pg(reader, header) -> ImportResult:
    result = ImportResult("metrics")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STAGE_SQL)
        raw = cursor.cursor  # the psycopg 3 cursor, for COPY
        with raw.copy("COPY merchants_metric_stage FROM STDIN") as copy:
            buf: list[str] = []
            for line, sid, minute, viewers, orders, gmv, ad_spend in _metric_rows(reader, header):
                buf.append(f"{line}\t{sid}\t{minute.isoformat()}\t{viewers}\t{orders}\t{gmv}\t{ad_spend}\n")
                if len(buf) >= _COPY_BATCH:
                    copy.write("".join(buf))
                    result.rows += len(buf)
                    buf.clear()
            copy.write("".join(buf))
            result.rows += len(buf)
        cursor.execute(_UNKNOWN_SESSION_SQL)
        bad = cursor.fetchone()
        if bad:
            raise CsvRejected.at(bad[0], "session_id", f"unknown session {bad[1]!r}; import the sessions first")
        cursor.execute(_DUPLICATE_SQL)
        dup = cursor.fetchone()[0]
        if dup is not None:
            raise CsvRejected.at(dup, "minute", "this session's minute appears twice in the file")
        cursor.execute("SELECT min(minute), max(minute) FROM merchants_metric_stage")
        result.first_minute, result.last_minute = cursor.fetchone()
        try:
            cursor.execute(_CAREFUL_INSERT_SQL)
            created = cursor.rowcount
            cursor.execute(_CAREFUL_UPDATE_SQL)
            updated = cursor.rowcount
        except (DataError, IntegrityError) as exc:  # pragma: no cover - validated above
            raise CsvRejected.at(0, "session_id", f"rejected by the database: {exc}") from exc
        cursor.execute("DROP TABLE merchants_metric_stage")
    result.created, result.updated = created, updated
    result.unchanged = result.rows - created - updated
    return result


class _NotForBulk(Exception):
    """The file needs the careful path: it has, or may have, a row the bulk path would misjudge."""


_BULK_CHUNK = 1 << 20
# Strict subset of what ``_parse_datetime_utc(minute=True)`` accepts; others take the careful path.
_BULK_MINUTE_RE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:00(\.0{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$"
)

_BULK_STAGE_SQL = """
CREATE TEMPORARY TABLE merchants_metric_bulk (
    session_ext text, minute text, viewers text, orders text, gmv text, ad_spend text
) ON COMMIT DROP
"""

_BULK_MINUTES_SQL = f"""
CREATE TEMPORARY TABLE merchants_metric_minutes ON COMMIT DROP AS
SELECT txt, CASE WHEN txt ~ '{_BULK_MINUTE_RE}' THEN
    CASE WHEN txt ~ '(Z|[+-][0-9:]+)$' THEN txt::timestamptz ELSE txt::timestamp AT TIME ZONE 'UTC' END
END AS minute
FROM (SELECT DISTINCT minute AS txt FROM merchants_metric_bulk) d
"""  # noqa: S608 - a constant

_BULK_MINUTES_BAD_SQL = "SELECT 1 FROM merchants_metric_minutes WHERE minute IS NULL LIMIT 1"

# Every row with its session's id, its minute and its typed values, and whether it is valid:
# a NULL session is unknown (or not spelt as stored); a number must read back as written, which
# refuses what PostgreSQL reads but the careful path does not ("+5", " 5", "1e3", "05"), and a
# text no number at all fails the cast and so the statement. Each value is cast once, in the
# inner query (OFFSET 0 keeps the planner from inlining the casts into every use).
_BULK_TYPED_SQL = """
CREATE TEMPORARY TABLE merchants_metric_typed ON COMMIT DROP AS
SELECT l.id AS session_id, n.minute, b.v AS viewers, b.o AS orders, b.g AS gmv, b.a AS ad_spend,
       (b.v::text = b.viewers AND b.v <= 999999999 AND b.o::text = b.orders AND b.o <= 999999999
        AND b.g::text = b.gmv AND b.g < 1e12 AND scale(b.g) <= 2
        AND b.a::text = b.ad_spend AND b.a < 1e12 AND scale(b.a) <= 2) AS ok
FROM (
    SELECT session_ext, minute, viewers, orders, gmv, ad_spend, viewers::integer AS v, orders::integer AS o,
           gmv::numeric AS g, ad_spend::numeric AS a
    FROM merchants_metric_bulk OFFSET 0
) b
JOIN merchants_metric_minutes n ON n.txt = b.minute
LEFT JOIN merchants_livesession l ON l.external_id = b.session_ext
"""

_BULK_BAD_SQL = "SELECT 1 FROM merchants_metric_typed WHERE session_id IS NULL OR ok IS NOT TRUE LIMIT 1"

# The duplicate check (a repeated session minute fails the index build), and the order in which
# the rows merge-join the stored ones.
_BULK_KEY_SQL = "CREATE UNIQUE INDEX ON merchants_metric_typed (session_id, minute)"

# The anti-join: only rows that are new or whose values differ are kept, so an unchanged row
# is neither locked nor rewritten. The file's first and last minute bound the stored rows, so
# the planner reads only the day partitions the file covers, however long the history.
_BULK_CHANGES_SQL = """
CREATE TEMPORARY TABLE merchants_metric_changes ON COMMIT DROP AS
SELECT t.session_id, t.minute, t.viewers, t.orders, t.gmv, t.ad_spend, m.session_id IS NULL AS is_new
FROM merchants_metric_typed t
LEFT JOIN merchants_sessionminute m ON m.session_id = t.session_id AND m.minute = t.minute
    AND m.minute BETWEEN %(first)s AND %(last)s
WHERE m.session_id IS NULL
   OR (m.viewers, m.orders, m.gmv, m.ad_spend) IS DISTINCT FROM (t.viewers, t.orders, t.gmv, t.ad_spend)
"""

_BULK_UPDATE_SQL = """
UPDATE merchants_sessionminute m
SET viewers = c.viewers, orders = c.orders, gmv = c.gmv, ad_spend = c.ad_spend
FROM merchants_metric_changes c
WHERE NOT c.is_new AND m.session_id = c.session_id AND m.minute = c.minute
  AND m.minute BETWEEN %(first)s AND %(last)s
"""

# A plain INSERT (ON CONFLICT's speculative insertion doubled its cost): when another import
# inserted one of these rows meanwhile, the unique key refuses it and the careful path, which
# upserts, takes the file over.
_BULK_INSERT_SQL = """
INSERT INTO merchants_sessionminute (session_id, minute, viewers, orders, gmv, ad_spend)
SELECT c.session_id, c.minute, c.viewers, c.orders, c.gmv, c.ad_spend FROM merchants_metric_changes c WHERE c.is_new
"""


def _bulk_work_mem(rows: int) -> str:
    """Memory for the duplicate check's sort and the joins' hash tables (~100 bytes a row), so
    they stay in memory; bounded, since spilling a little beats exhausting the server."""
    return f"{min(max(rows // 10_000, 4), 512)}MB"


def _bulk_chunks(source) -> Iterator[bytes] | None:
    """The file's bytes in large blocks, or None when it cannot be read twice (then only the
    careful path runs, since the bulk path may have to hand it over)."""
    if isinstance(source, str | Path):
        return _file_chunks(source)
    if isinstance(source, bytes):
        return (source[i : i + _BULK_CHUNK] for i in range(0, len(source), _BULK_CHUNK))
    if isinstance(source, io.TextIOBase) or not hasattr(source, "seek") or not hasattr(source, "read"):
        return None
    source.seek(0)
    return iter(lambda: source.read(_BULK_CHUNK), b"")


def _file_chunks(path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        yield from iter(lambda: handle.read(_BULK_CHUNK), b"")


def _import_metrics_bulk(source) -> ImportResult | None:
    """Import a metrics file through the bulk path; None when it must take the careful path."""
    chunks = _bulk_chunks(source)
    if chunks is None:
        return None
    try:
        with transaction.atomic():
            return _bulk(chunks)
    except (_NotForBulk, DatabaseError, psycopg.Error):
        return None
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
        if hasattr(source, "seek") and not isinstance(source, bytes | str | Path):
            source.seek(0)


def _bulk(chunks: Iterator[bytes]) -> ImportResult:
    result = ImportResult("metrics")
    head = b""
    for chunk in chunks:  # the header line, BOM removed
        head += chunk
        if b"\n" in head or len(head) > _BULK_CHUNK:
            break
    head = head.removeprefix(codecs.BOM_UTF8)
    header_line, newline, rest = head.partition(b"\n")
    try:
        header = [h.strip().lower() for h in header_line.decode("utf-8").rstrip("\r").split(",")]
    except UnicodeDecodeError:
        raise _NotForBulk from None
    if header != METRIC_COLUMNS or not newline:
        raise _NotForBulk
    with connection.cursor() as cursor:
        cursor.execute(_BULK_STAGE_SQL)
        # COPY's CSV reader would stop at a line holding only "\." and no valid row has a
        # backslash, so a file with one takes the careful path.
        with cursor.cursor.copy("COPY merchants_metric_bulk FROM STDIN WITH (FORMAT csv)") as copy:
            for block in itertools.chain((rest,), chunks):
                if b"\\" in block:
                    raise _NotForBulk
                copy.write(block)
        result.rows = cursor.cursor.rowcount
        # Temporary tables are never analysed automatically; without statistics the planner
        # guesses sizes and picks sorts that spill. JIT compiles for longer than these run.
        cursor.execute(
            "SELECT current_setting('work_mem'), current_setting('maintenance_work_mem'), current_setting('jit'),"
            " current_setting('default_statistics_target')"
        )
        saved = cursor.fetchone()
        # The staging tables' statistics only steer this import's joins: a small sample does.
        cursor.execute(
            "SELECT set_config('work_mem', %s, true), set_config('maintenance_work_mem', %s, true),"
            " set_config('jit', 'off', true), set_config('default_statistics_target', '10', true)",
            [_bulk_work_mem(result.rows)] * 2,
        )
        for sql in (
            "ANALYZE merchants_metric_bulk",
            _BULK_MINUTES_SQL,
            "ANALYZE merchants_metric_minutes",
            _BULK_MINUTES_BAD_SQL,
            _BULK_TYPED_SQL,
            _BULK_BAD_SQL,
            _BULK_KEY_SQL,  # a duplicate raises IntegrityError
            "ANALYZE merchants_metric_typed",
        ):
            cursor.execute(sql)
            if cursor.description and cursor.fetchone():
                raise _NotForBulk
        cursor.execute("SELECT min(minute), max(minute) FROM merchants_metric_minutes")
        result.first_minute, result.last_minute = cursor.fetchone()
        bounds = {"first": result.first_minute, "last": result.last_minute}
        cursor.execute(_BULK_CHANGES_SQL, bounds)
        cursor.execute("ANALYZE merchants_metric_changes")
        cursor.execute(_BULK_UPDATE_SQL, bounds)
        result.updated = cursor.rowcount
        cursor.execute(_BULK_INSERT_SQL)
        result.created = cursor.rowcount
        cursor.execute(
            "SELECT set_config('work_mem', %s, true), set_config('maintenance_work_mem', %s, true),"
            " set_config('jit', %s, true), set_config('default_statistics_target', %s, true)",
            saved,
        )
        cursor.execute(
            "DROP TABLE merchants_metric_changes, merchants_metric_typed, merchants_metric_minutes,"
            " merchants_metric_bulk"
        )
    result.unchanged = result.rows - result.created - result.updated
    result.bulk = True
    return result


def _import_metrics_portable(reader, header) -> ImportResult:
    result = ImportResult("metrics")
    rows = list(_metric_rows(reader, header))
    result.rows = len(rows)
    with transaction.atomic():
        ext_ids = {r[1] for r in rows}
        sessions = dict(LiveSession.objects.filter(external_id__in=ext_ids).values_list("external_id", "id"))
        seen: set = set()
        for line, sid, minute, *_ in rows:
            if sid not in sessions:
                raise CsvRejected.at(line, "session_id", f"unknown session {sid!r}; import the sessions first")
            if (sid, minute) in seen:
                raise CsvRejected.at(line, "minute", "this session's minute appears twice in the file")
            seen.add((sid, minute))
        existing = {
            (m.session_id, m.minute): m for m in SessionMinute.objects.filter(session_id__in=set(sessions.values()))
        }
        to_create, to_update = [], []
        for _line, sid, minute, viewers, orders, gmv, ad_spend in rows:
            values = {
                "viewers": int(viewers),
                "orders": int(orders),
                "gmv": Decimal(gmv),
                "ad_spend": Decimal(ad_spend),
            }
            current = existing.get((sessions[sid], minute))
            if current is None:
                to_create.append(SessionMinute(session_id=sessions[sid], minute=minute, **values))
            elif any(getattr(current, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(current, k, v)
                to_update.append(current)
        SessionMinute.objects.bulk_create(to_create, batch_size=2000)
        SessionMinute.objects.bulk_update(to_update, ["viewers", "orders", "gmv", "ad_spend"], batch_size=2000)
    result.created, result.updated = len(to_create), len(to_update)
    result.unchanged = result.rows - result.created - result.updated
    return result


def write_csv(*, kind: str, rows: Iterable[Iterable]) -> str:
    """A CSV text of ``kind`` with its header (used by tests, benchmarks and the demo)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KINDS[kind])
    writer.writerows(rows)
    return out.getvalue()


# --- metric partitions (PostgreSQL) ------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def create_metric_partitions(*, first: date, last: date) -> list[str]:
    """Create the day partitions of the per-minute metrics from ``first`` to ``last`` (UTC days,
    inclusive) that do not exist yet, and one for every day that has rows in the default
    partition; returns the names created. Idempotent; a no-op without partitioning (SQLite).

    A day's rows that landed in the default partition (imported before its partition existed)
    move into the new partition in the same transaction, so nothing is lost and the default
    partition, which every new partition must be checked against, stays empty.
    """
    if connection.vendor != "postgresql":
        return []
    existing = {day for _name, day in metric_partitions()}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT (minute AT TIME ZONE 'UTC')::date FROM {METRIC_DEFAULT_PARTITION}"  # noqa: S608
        )
        stray = {r[0] for r in cursor.fetchall()}
    wanted = {first + timedelta(days=i) for i in range((last - first).days + 1)} | stray
    created = []
    for day in sorted(wanted - existing):
        _create_day_partition(day)
        created.append(metric_partition_name(day=day))
    return created


def _create_day_partition(day: date) -> None:
    name = metric_partition_name(day=day)
    start, end = _day_bounds(day)
    with transaction.atomic(), connection.cursor() as cursor:
        # Imports keep writing to the other days meanwhile (ROW EXCLUSIVE does not conflict
        # with SHARE UPDATE EXCLUSIVE); a write that would land in the default partition waits
        # the few statements below, so no row of this day slips in between the move and the attach.
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        cursor.execute("LOCK TABLE merchants_sessionminute IN SHARE UPDATE EXCLUSIVE MODE")
        cursor.execute(f"LOCK TABLE {METRIC_DEFAULT_PARTITION} IN ACCESS EXCLUSIVE MODE")
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is not None:  # another run created it meanwhile
            return
        cursor.execute(f"CREATE TABLE {name} (LIKE merchants_sessionminute INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {METRIC_DEFAULT_PARTITION} WHERE minute >= %(start)s AND minute < %(end)s"  # noqa: S608
            f" RETURNING {_METRIC_COLUMNS_SQL}) INSERT INTO {name} ({_METRIC_COLUMNS_SQL}) SELECT * FROM moved",
            {"start": start, "end": end},
        )
        # The attach builds the partition's primary-key index once, after the rows are in.
        cursor.execute(
            f"ALTER TABLE merchants_sessionminute ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [start, end]
        )


_METRIC_COLUMNS_SQL = "session_id, minute, viewers, orders, gmv, ad_spend"


def drop_metric_partitions(*, before: datetime) -> list[str]:
    """Detach and drop every day partition whose day ends at or before ``before``; returns
    the names dropped. The caller decides ``before`` (``claims.services.drop_expired_metrics``
    keeps every minute an open claim window may still read)."""
    if connection.vendor != "postgresql":
        return []
    dropped = []
    for name, day in metric_partitions():
        if _day_bounds(day)[1] > before:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            # A plain DETACH locks the whole table (CONCURRENTLY is not allowed beside a default
            # partition): give up quickly rather than queue every reader behind a long estimate.
            cursor.execute("SET LOCAL lock_timeout = '5s'")
            cursor.execute(f"ALTER TABLE merchants_sessionminute DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")
        dropped.append(name)
    return dropped


# --- Payout details ---------------------------------------------------------------------------

# A domestic account number is digits only; letters appear only in an IBAN (country letters,
# check digits, then letters and digits, 15 to 34 characters in all).
_ACCOUNT_NUMBER = re.compile(r"[0-9]{6,34}|[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def update_payout_details(
    *, merchant: Merchant | int, by: User, account_name: str, bank: str, account_number: str = ""
) -> Merchant:
    """An administrator of the merchant changes where its compensation is paid.

    ``account_number`` empty keeps the stored one (the page never shows it whole). Each changed
    field is recorded in the merchant's setting history, the account number by its last four
    characters only. A claim whose payment failed stays accepted and joins the next batch,
    which pays it with these details.
    """
    pk = merchant.pk if isinstance(merchant, Merchant) else merchant
    if not is_merchant_admin(user=by, merchant_id=pk):
        raise NotPermitted(_("Only an administrator of the merchant may change its payout details."))
    name = " ".join((account_name or "").split())
    bank = " ".join((bank or "").split())
    number = re.sub(r"[\s-]", "", account_number or "").upper()
    if not name:
        raise InvalidInput(_("Enter the account holder's name."), field="account_name", code="required")
    if len(name) > 200 or len(bank) > 200:
        raise InvalidInput(_("Use at most 200 characters."), field="account_name" if len(name) > 200 else "bank")
    if not bank:
        raise InvalidInput(_("Enter the bank's name."), field="bank", code="required")
    if number and not _ACCOUNT_NUMBER.fullmatch(number):
        raise InvalidInput(
            _(
                "An account number has 6 to 34 digits (spaces and hyphens are left out); letters only in "
                "an IBAN: 2 letters, 2 digits, then letters and digits, 15 to 34 characters in all."
            ),
            field="account_number",
            code="bad_account_number",
        )
    with transaction.atomic():
        locked = Merchant.objects.select_for_update().get(pk=pk)
        if not number and not locked.payout_account_number:
            raise InvalidInput(_("Enter the account number."), field="account_number", code="required")
        before = core_services.snapshot(obj=locked, fields=PAYOUT_FIELDS)
        locked.payout_account_name, locked.payout_bank = name, bank
        if number:
            locked.payout_account_number = number
        locked.save(update_fields=list(PAYOUT_FIELDS))
        core_services.record_setting_changes(
            obj=locked,
            by=by,
            before=before,
            fields=PAYOUT_FIELDS,
            masks={"payout_account_number": mask_account},
        )
    return locked
