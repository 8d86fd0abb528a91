"""Writes about merchants: CSV ingestion of merchants, live sessions and per-minute metrics.

Everything goes through :func:`import_csv`. A file is validated row by row (a bad row raises
:class:`ImportRowError` naming its line and column) and imported in one transaction, so a
file is imported whole or not at all. Rows are upserted by their natural key (merchant
``code``, session ``session_id``, metric ``(session_id, minute)``); a row equal to the stored
one is not written again, so re-importing a file changes nothing.

On PostgreSQL, metrics stream through ``COPY`` into a temporary staging table while being
validated, then one set-based ``INSERT … ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM``
upserts them. Other databases (the SQLite demo) use a portable ORM path.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import filetype
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import InvalidInput

from .models import LiveSession, Merchant, SessionMinute

MERCHANT_COLUMNS = ["code", "name", "timezone", "margin_rate", "currency"]
SESSION_COLUMNS = ["merchant_code", "merchant_name", "session_id", "service", "region", "started_at", "ended_at"]
METRIC_COLUMNS = ["session_id", "minute", "viewers", "orders", "gmv", "ad_spend"]
KINDS = {"merchants": MERCHANT_COLUMNS, "sessions": SESSION_COLUMNS, "metrics": METRIC_COLUMNS}

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_MONEY = re.compile(r"^\d{1,12}(\.\d{1,2})?$")
_INT = re.compile(r"^\d{1,9}$")
_RATE = re.compile(r"^(0(\.\d{1,4})?|1(\.0{1,4})?|\.\d{1,4})$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_COPY_BATCH = 20_000
# Largest file the bulk API accepts (about 1.8 M metric rows); larger files: the manage.py commands.
MAX_UPLOAD_BYTES = 100 * 1024 * 1024


class ImportRowError(InvalidInput):
    """A bad row (or header): ``line`` is the 1-based line of the file, ``column`` its column name."""

    def __init__(self, line: int, column: str, message: str):
        self.line, self.column = line, column
        super().__init__(f"line {line}, column {column}: {message}", field=column)
        self.message = message

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "error": self.message}


class UploadTooLarge(ImportRowError):
    """An upload over :data:`MAX_UPLOAD_BYTES`."""


class NotCsv(ImportRowError):
    """An upload that is not CSV text (a spreadsheet, an archive, a picture…)."""


def check_upload_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(
            0,
            "file",
            f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it or use the manage.py command",
        )


def check_upload(source) -> None:
    """Refuse an upload (bytes or an uploaded file) that is empty, too large or not CSV text.

    The type is judged by the content, never the name: a known binary signature (e.g. an
    Excel workbook) or a NUL byte in the first 8 KB means it is not a CSV file.
    """
    if isinstance(source, bytes):
        size, head = len(source), source[:8192]
    else:
        size = source.size
        source.seek(0)
        head = source.read(8192)
        source.seek(0)
    check_upload_size(size)
    if not head:
        raise ImportRowError(0, "file", "no CSV given")
    guess = filetype.guess(head)
    if guess is not None or b"\x00" in head:
        found = f"a {guess.extension} file ({guess.mime})" if guess is not None else "binary data"
        raise NotCsv(0, "file", f"expected a CSV file (UTF-8 text), got {found}")


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


def import_csv(kind: str, source) -> ImportResult:
    """Import one CSV file of ``kind`` (merchants, sessions or metrics), all or nothing.

    ``source`` is a path, a text file object or bytes. Raises :class:`ImportRowError`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    with _open(source) as opened:
        reader = csv.reader(opened.handle)
        try:
            columns = _header(reader, KINDS[kind])
            if kind == "merchants":
                result = _import_merchants(reader, columns)
            elif kind == "sessions":
                result = _import_sessions(reader, columns)
            elif connection.vendor == "postgresql":
                result = _import_metrics_pg(reader, columns)
            else:
                result = _import_metrics_portable(reader, columns)
        except UnicodeDecodeError:  # e.g. a GBK file saved by a spreadsheet
            raise opened.not_utf8(KINDS[kind]) from None
    transaction.on_commit(lambda: analyze(ANALYZED[kind]))
    return result


# The tables an import of each kind fills, and the ones loss and proposal queries join them with.
ANALYZED = {
    "merchants": ["merchants_merchant", "merchants_membership", "auth_user"],
    "sessions": ["merchants_livesession"],
    "metrics": ["merchants_sessionminute"],
}


def analyze(tables: list[str]) -> None:
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


# --- reading and field parsing ---------------------------------------------------------


class _open:
    """A path, bytes or a file object (binary or text) as text lines for ``csv`` (UTF-8, BOM allowed)."""

    def __init__(self, source):
        self.source, self.handle, self.binary, self.owned = source, None, None, False

    def __enter__(self):
        src = self.source
        if isinstance(src, io.TextIOBase):
            self.handle = src
            return self
        if isinstance(src, str | Path):
            self.binary, self.owned = open(src, "rb"), True  # noqa: SIM115 - closed in __exit__
        elif isinstance(src, bytes):
            self.binary = io.BytesIO(src)
        else:  # binary file-like (e.g. an uploaded file)
            self.binary = src
        self.handle = io.TextIOWrapper(self.binary, encoding="utf-8-sig", newline="")
        return self

    def __exit__(self, *exc):
        if isinstance(self.handle, io.TextIOWrapper) and self.binary is not None:
            self.handle.detach()  # leave the caller's file open
        if self.owned:
            self.binary.close()

    def not_utf8(self, expected: list[str]) -> ImportRowError:
        """The error for a file that failed to decode, naming the first line and column at fault.

        Decoding runs in large blocks, so the failing block says little: the file is read again
        line by line (only on this error path) to find the first line that is not UTF-8.
        """
        self.binary.seek(0)
        header = expected
        number = 0
        for chunk in self.binary:
            # A binary file splits on \n only; a lone \r ends a line too (as in text mode).
            for raw in chunk.splitlines(keepends=True) if b"\r" in chunk else (chunk,):
                number += 1
                if number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    column = header[min(_field_index(raw[: exc.start]), len(header) - 1)]
                    return ImportRowError(
                        number, column, 'the file is not UTF-8 text; save it as "CSV UTF-8" and try again'
                    )
                if number == 1:
                    header = [h.strip().lower() for h in next(csv.reader([text]), [])] or expected
        return ImportRowError(number, expected[0], "the file is not UTF-8 text")  # pragma: no cover


def _field_index(prefix: bytes) -> int:
    """0-based index of the CSV field in which a line's ``prefix`` ends."""
    try:
        return max(0, len(next(csv.reader([prefix.decode("utf-8", "replace")]), [""])) - 1)
    except csv.Error:
        return 0


def _header(reader, expected: list[str]) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportRowError(1, expected[0], "the file is empty; expected a header row") from None
    header = [h.strip().lower() for h in header]
    for name in expected:
        if name not in header:
            raise ImportRowError(1, name, f"missing column; the header must be {','.join(expected)}")
    return header


def _rows(reader, header: list[str], expected: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Yield (line, values in ``expected`` order); blank lines are skipped."""
    positions = [header.index(name) for name in expected]
    width = len(header)
    if positions == list(range(len(expected))) and width == len(expected):
        positions = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportRowError(reader.line_num, expected[0], f"malformed CSV: {exc}") from None
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            col = expected[min(len(row), len(expected) - 1)] if len(row) < width else header[-1]
            raise ImportRowError(reader.line_num, col, f"expected {width} fields, found {len(row)}")
        yield reader.line_num, (row if positions is None else [row[p] for p in positions])


_dt_cache: dict[str, datetime] = {}


def parse_datetime_utc(value: str, line: int, column: str, *, minute: bool = False) -> datetime:
    """ISO 8601; a time without offset is taken as UTC. ``minute``: must be a whole minute."""
    cached = _dt_cache.get(value)
    if cached is None:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ImportRowError(line, column, f"not an ISO 8601 date-time: {value!r}") from None
        cached = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        if len(_dt_cache) > 100_000:
            _dt_cache.clear()
        _dt_cache[value] = cached
    if minute and (cached.second or cached.microsecond):
        raise ImportRowError(line, column, f"not the start of a minute: {value!r}")
    return cached


def _money(value: str, line: int, column: str) -> str:
    value = value.strip()
    if not _MONEY.match(value):
        raise ImportRowError(line, column, f"expected a non-negative amount with at most 2 decimals, got {value!r}")
    return value


def _int(value: str, line: int, column: str) -> str:
    value = value.strip()
    if not _INT.match(value):
        raise ImportRowError(line, column, f"expected a non-negative whole number, got {value!r}")
    return value


def _slug(value: str, line: int, column: str) -> str:
    value = value.strip()
    if not value or len(value) > 60 or not _SLUG.match(value):
        raise ImportRowError(line, column, f"expected a code of letters, digits, - or _, got {value!r}")
    return value


def _session_id(value: str, line: int) -> str:
    value = value.strip()
    if not value or len(value) > 120 or any(c in value for c in "\\\t\r\n"):
        raise ImportRowError(line, "session_id", f"expected a session id of 1 to 120 plain characters, got {value!r}")
    return value


# --- merchants -------------------------------------------------------------------------


def _import_merchants(reader, header) -> ImportResult:
    result = ImportResult("merchants")
    parsed: dict[str, dict] = {}
    for line, (code, name, tz, margin, currency) in _rows(reader, header, MERCHANT_COLUMNS):
        code = _slug(code, line, "code")
        if code in parsed:
            raise ImportRowError(line, "code", f"merchant {code!r} appears twice in the file")
        name = name.strip()
        if not name or len(name) > 200:
            raise ImportRowError(line, "name", "expected a name of 1 to 200 characters")
        tz = tz.strip() or "Asia/Shanghai"
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ImportRowError(line, "timezone", f"unknown time zone {tz!r}") from None
        margin = margin.strip()
        if margin and not _RATE.match(margin):
            raise ImportRowError(line, "margin_rate", f"expected a rate between 0 and 1 (e.g. 0.35), got {margin!r}")
        currency = currency.strip().upper() or "CNY"
        if not _CURRENCY.match(currency):
            raise ImportRowError(line, "currency", f"expected a 3-letter ISO currency code, got {currency!r}")
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


def _import_sessions(reader, header) -> ImportResult:
    result = ImportResult("sessions")
    parsed: dict[str, tuple[int, dict]] = {}
    merchant_names: dict[str, tuple[int, str]] = {}
    for line, (mcode, mname, sid, service, region, started, ended) in _rows(reader, header, SESSION_COLUMNS):
        mcode = _slug(mcode, line, "merchant_code")
        sid = _session_id(sid, line)
        if sid in parsed:
            raise ImportRowError(line, "session_id", f"session {sid!r} appears twice in the file")
        started_at = parse_datetime_utc(started, line, "started_at")
        ended_at = parse_datetime_utc(ended, line, "ended_at") if ended.strip() else None
        if ended_at is not None and ended_at <= started_at:
            raise ImportRowError(line, "ended_at", "must be after started_at")
        region = _slug(region, line, "region")
        if len(region) > 40:
            raise ImportRowError(line, "region", "at most 40 characters")
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
                    raise ImportRowError(line, "merchant_name", f"unknown merchant {code!r} and no name to create it")
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
    for line, (sid, minute, viewers, orders, gmv, ad_spend) in _rows(reader, header, METRIC_COLUMNS):
        yield (
            line,
            _session_id(sid, line),
            parse_datetime_utc(minute, line, "minute", minute=True),
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

_UPSERT_SQL = """
WITH up AS (
    INSERT INTO merchants_sessionminute AS m (session_id, minute, viewers, orders, gmv, ad_spend)
    SELECT l.id, s.minute, s.viewers, s.orders, s.gmv, s.ad_spend
    FROM merchants_metric_stage s JOIN merchants_livesession l ON l.external_id = s.session_ext
    ON CONFLICT (session_id, minute) DO UPDATE
        SET viewers = EXCLUDED.viewers, orders = EXCLUDED.orders, gmv = EXCLUDED.gmv, ad_spend = EXCLUDED.ad_spend
        WHERE (m.viewers, m.orders, m.gmv, m.ad_spend)
            IS DISTINCT FROM (EXCLUDED.viewers, EXCLUDED.orders, EXCLUDED.gmv, EXCLUDED.ad_spend)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
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
            raise ImportRowError(bad[0], "session_id", f"unknown session {bad[1]!r}; import the sessions first")
        cursor.execute(_DUPLICATE_SQL)
        dup = cursor.fetchone()[0]
        if dup is not None:
            raise ImportRowError(dup, "minute", "this session's minute appears twice in the file")
        try:
            cursor.execute(_UPSERT_SQL)
        except (DataError, IntegrityError) as exc:  # pragma: no cover - validated above
            raise ImportRowError(0, "session_id", f"rejected by the database: {exc}") from exc
        created, updated = cursor.fetchone()
        cursor.execute("DROP TABLE merchants_metric_stage")
    result.created, result.updated = created, updated
    result.unchanged = result.rows - created - updated
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
                raise ImportRowError(line, "session_id", f"unknown session {sid!r}; import the sessions first")
            if (sid, minute) in seen:
                raise ImportRowError(line, "minute", "this session's minute appears twice in the file")
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


def write_csv(kind: str, rows: Iterable[Iterable]) -> str:
    """A CSV text of ``kind`` with its header (used by tests, benchmarks and the demo)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KINDS[kind])
    writer.writerows(rows)
    return out.getvalue()
