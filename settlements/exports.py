"""CSV and XLSX exports of a batch and of the compensation ledger.

Files are pure functions of the database rows: no generation time inside, rows in a fixed
order, fixed XLSX metadata and zip entry times, so exporting twice gives the same bytes.
CSV rows are produced lazily (``iter_csv``) for ``StreamingHttpResponse`` and XLSX is built in
a temporary file (``xlsx_file``) for ``FileResponse``: neither holds the whole export in memory.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.db import connections
from django.db.models import Count, DecimalField, Exists, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.models import Claim, ClaimState
from core.db import reports_db
from core.money import cents

from .models import ItemStatus, SettlementBatch, SettlementItem
from .spreadsheet import FORMULA_PREFIXES, neutralise

FIXED_TIME = datetime(2000, 1, 1)  # noqa: DTZ001 (written as the XLSX created/modified time and zip entry time)
BATCH_COLUMNS = [
    "batch",
    "claim_id",
    "merchant_code",
    "merchant_name",
    "incident",
    "currency",
    "amount",
    "status",
    "payment_reference",
    "failure_reason",
    "payout_account_name",
    "payout_bank",
    "payout_account_number",
]
LEDGER_COLUMNS = [
    "accepted_on",
    "claim_id",
    "merchant_code",
    "merchant_name",
    "incident",
    "currency",
    "approved_amount",
    "claim_state",
    "batch",
    "payment_status",
    "payment_reference",
    "paid_on",
    "paid_amount",
    "outstanding_amount",
]
LEDGER_TOTAL_COLUMNS = ["totals", "currency", "claims", "approved_amount", "paid_amount", "outstanding_amount"]
CHUNK = 2000


def _local_date(value, tz=None) -> date | None:
    """A local calendar day: an ISO date in CSV, a date cell in XLSX."""
    return timezone.localtime(value, tz).date() if value else None


def _money(value) -> str:
    return f"{cents(value):.2f}"


# --- Batch --------------------------------------------------------------------------------


def batch_items(batch: SettlementBatch):
    return (
        SettlementItem.objects.filter(batch=batch)
        .exclude(status=ItemStatus.REMOVED)
        .select_related("merchant", "claim__incident")
        .order_by("claim_id", "pk")
    )


def batch_rows(batch: SettlementBatch) -> Iterator[list]:
    """Header, one row per claim (by claim number), then one TOTAL row per currency."""
    yield BATCH_COLUMNS
    totals: dict[str, list] = {}
    for item in batch_items(batch).iterator(chunk_size=CHUNK):
        t = totals.setdefault(item.currency, [0, Decimal("0.00")])
        t[0] += 1
        t[1] += item.amount
        yield [
            batch.reference,
            item.claim_id,
            item.merchant.code,
            item.merchant.name,
            item.claim.incident.key,
            item.currency,
            item.amount,
            item.status,
            item.payment_reference,
            item.failure_reason,
            item.payout_account_name,
            item.payout_bank,
            item.payout_account_number,
        ]
    for currency, (count, amount) in sorted(totals.items()):
        yield ["TOTAL", count, "", "", "", currency, amount, "", "", "", "", "", ""]


# --- Ledger -------------------------------------------------------------------------------


def _day_bounds(start: date, end: date):
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


# The ledger's status filter: the claim's state says paid or not; a failed payment is an accepted
# claim whose latest batch item failed and that no batch holds again yet.
LEDGER_STATUSES = ("unpaid", "failed", "paid")


def ledger_claims(start: date, end: date, *, status: str = "", merchant_id: int | None = None, currency: str = ""):
    """Claims accepted (by the merchant) from ``start`` to ``end`` inclusive, local days, of the
    status, merchant and currency when given: the columns a ledger row shows, as tuples
    (``LEDGER_CLAIM_FIELDS``), by acceptance time (the index on (accepted_at, id))."""
    lo, hi = _day_bounds(start, end)
    states = {"unpaid": [ClaimState.ACCEPTED], "failed": [ClaimState.ACCEPTED], "paid": [ClaimState.SETTLED]}
    qs = Claim.objects.using(reports_db()).filter(  # a read-only report: the replica when there is one
        state__in=states.get(status, [ClaimState.ACCEPTED, ClaimState.SETTLED]),
        approved_amount__isnull=False,
        accepted_at__gte=lo,
        accepted_at__lt=hi,
    )
    if status == "failed":
        items = SettlementItem.objects.filter(claim=OuterRef("pk"))
        qs = qs.filter(
            Exists(items.filter(status=ItemStatus.FAILED)),
            ~Exists(items.filter(status__in=[ItemStatus.PENDING, ItemStatus.PAID])),
        )
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if currency:
        qs = qs.filter(currency=currency)
    return qs.order_by("accepted_at", "pk").values_list(*LEDGER_CLAIM_FIELDS)


# Only what a ledger row shows, read as plain values: a claim row is wide (statements,
# messages), building model instances (and their state-machine bookkeeping) cost more than
# the rest of the export, and the ledger is long.
LEDGER_CLAIM_FIELDS = (
    "pk",
    "accepted_at",
    "currency",
    "approved_amount",
    "state",
    "payment_reference",
    "settled_at",
    "merchant__code",
    "merchant__name",
    "incident__source",
    "incident__external_id",
    "incident__title",
)
LEDGER_ITEM_FIELDS = ("claim_id", "status", "payment_reference", "paid_at", "batch__reference")


def _ledger_claim(values) -> SimpleNamespace:
    pk, accepted_at, currency, approved, state, reference, settled_at, code, name, source, external_id, title = values
    return SimpleNamespace(
        pk=pk,
        accepted_at=accepted_at,
        currency=currency,
        approved_amount=approved,
        state=state,
        payment_reference=reference,
        settled_at=settled_at,
        merchant=SimpleNamespace(code=code, name=name),
        # The files name an incident by its key; the page by its reference and title.
        incident=SimpleNamespace(key=f"{source}:{external_id}", reference=external_id, title=title),
    )


def _ledger_item(values) -> SimpleNamespace:
    claim_id, status, reference, paid_at, batch_reference = values
    return SimpleNamespace(
        claim_id=claim_id,
        status=status,
        payment_reference=reference,
        paid_at=paid_at,
        batch=SimpleNamespace(reference=batch_reference),
    )


def _after(qs, last_accepted_at, last_pk):
    return qs.filter(accepted_at__gte=last_accepted_at).exclude(accepted_at=last_accepted_at, pk__lte=last_pk)


def keyset_chunks(qs, size: int | None = None) -> Iterator[list]:
    """``ledger_claims`` rows in chunks, each fetched after the last one's (accepted_at, pk).

    Unlike OFFSET, a chunk costs the same wherever it is: the index on (accepted_at, id) is
    entered at the previous key instead of sorting and skipping everything before it.
    """
    size = size or CHUNK
    chunk = [_ledger_claim(v) for v in qs[:size]]
    while chunk:
        yield chunk
        last = chunk[-1]
        chunk = [_ledger_claim(v) for v in _after(qs, last.accepted_at, last.pk)[:size]] if len(chunk) == size else []


def _ledger_lines(chunk: list, tz) -> Iterator[list]:
    """The ledger row of each claim of a chunk (its batch item read in one query)."""
    items: dict[int, SimpleNamespace] = {}
    for candidate in map(
        _ledger_item,
        SettlementItem.objects.using(reports_db())
        .filter(claim__in=[c.pk for c in chunk])
        .exclude(status=ItemStatus.REMOVED)
        .order_by("pk")
        .values_list(*LEDGER_ITEM_FIELDS),
    ):
        if candidate.status != ItemStatus.FAILED or candidate.claim_id not in items:
            items[candidate.claim_id] = candidate  # the active item wins over earlier failed ones
    for claim in chunk:
        item = items.get(claim.pk)
        # A settled claim is paid, also when finance settled it outside a batch (workflow ``settle``).
        settled = claim.state == ClaimState.SETTLED
        if settled and item is not None and item.status != ItemStatus.PAID:
            item = None
        paid = cents(claim.approved_amount) if settled else Decimal("0.00")
        yield [
            _local_date(claim.accepted_at, tz),
            claim.pk,
            claim.merchant.code,
            claim.merchant.name,
            claim.incident.key,
            claim.currency,
            cents(claim.approved_amount),
            claim.state,
            item.batch.reference if item else "",
            ItemStatus.PAID if settled else (item.status if item else ""),
            claim.payment_reference if settled else (item.payment_reference if item else ""),
            _local_date((item.paid_at if item else None) or claim.settled_at, tz) if settled else None,
            paid,
            cents(claim.approved_amount) - paid,
        ]


def ledger_totals(start: date, end: date, **filters) -> list[dict]:
    """Per currency over the whole selection: claims, approved, paid (settled) and outstanding,
    summed in the database (the page shows one page of rows but the totals of all)."""
    money = DecimalField(max_digits=16, decimal_places=2)
    zero = Value(Decimal("0.00"), output_field=money)
    rows = (
        ledger_claims(start, end, **filters)
        .order_by()
        .values("currency")
        .annotate(
            count=Count("pk"),
            approved=Coalesce(Sum("approved_amount"), zero, output_field=money),
            paid=Coalesce(Sum("approved_amount", filter=Q(state=ClaimState.SETTLED)), zero, output_field=money),
        )
        .order_by("currency")
    )
    return [
        {
            "currency": r["currency"],
            "count": r["count"],
            "approved": cents(r["approved"]),
            "paid": cents(r["paid"]),
            "outstanding": cents(r["approved"]) - cents(r["paid"]),
        }
        for r in rows
    ]


def ledger_rows(start: date, end: date, **filters) -> Iterator[list]:
    """Header, one row per claim, a blank line, then the totals per currency in a table of their
    own with its own header (so no total sits in a column that means something else)."""
    yield LEDGER_COLUMNS
    tz = timezone.get_current_timezone()
    for chunk in keyset_chunks(ledger_claims(start, end, **filters)):
        yield from _ledger_lines(chunk, tz)
    yield []
    yield LEDGER_TOTAL_COLUMNS
    for t in ledger_totals(start, end, **filters):
        yield ["TOTAL", t["currency"], t["count"], t["approved"], t["paid"], t["outstanding"]]


def ledger_page(start: date, end: date, *, after: int | None = None, size: int = 50, **filters) -> dict:
    """One page of ledger rows (as ``dict(zip(LEDGER_COLUMNS, row))``) after the claim ``after``,
    and the claim to continue after: keyset paging, so a late page costs what the first does."""
    qs = ledger_claims(start, end, **filters)
    if after is not None:
        key = Claim.objects.using(reports_db()).filter(pk=after).values_list("accepted_at", flat=True).first()
        if key is not None:
            qs = _after(qs, key, after)
    chunk = [_ledger_claim(v) for v in qs[: size + 1]]
    more = len(chunk) > size
    chunk = chunk[:size]
    rows = [
        {
            **dict(zip(LEDGER_COLUMNS, line, strict=True)),
            "incident_reference": claim.incident.reference,
            "incident_title": claim.incident.title,
        }
        for claim, line in zip(chunk, _ledger_lines(chunk, timezone.get_current_timezone()), strict=True)
    ]
    return {"rows": rows, "next_after": chunk[-1].pk if more else None}


def _sql_text(expr: str, *, nullable: bool = False) -> str:
    """A text cell as ``iter_csv`` writes it: neutralised (``spreadsheet.neutralise``), and NULL
    when empty, since COPY's CSV writes an empty non-NULL string as ``""`` and csv.writer nothing."""
    codes = ", ".join(str(ord(c)) for c in FORMULA_PREFIXES)
    value = f"coalesce({expr}, '')" if nullable else expr
    return f"nullif(CASE WHEN ascii({value}) IN ({codes}) THEN chr(39) || {value} ELSE {value} END, '')"


def _sql_date(expr: str) -> str:
    return f"to_char(timezone(%(tz)s, {expr}), 'YYYY-MM-DD')"


# The selection of ``ledger_claims`` in SQL, one clause per filter (the same filters, the same meaning).
_LEDGER_STATES = {
    "": "c.state IN (%(accepted)s, %(settled)s)",
    "unpaid": "c.state = %(accepted)s",
    "failed": "c.state = %(accepted)s",
    "paid": "c.state = %(settled)s",
}
_LEDGER_FAILED = """EXISTS (SELECT 1 FROM settlements_settlementitem f
                      WHERE f.claim_id = c.id AND f.status = %(failed)s)
              AND NOT EXISTS (SELECT 1 FROM settlements_settlementitem p WHERE p.claim_id = c.id
                              AND p.status IN (%(pending)s, %(paid)s))"""


def _ledger_where(status: str, merchant_id: int | None, currency: str) -> str:
    clauses = [
        _LEDGER_STATES[status],
        "c.approved_amount IS NOT NULL AND c.accepted_at >= %(lo)s AND c.accepted_at < %(hi)s",
    ]
    if status == "failed":
        clauses.append(_LEDGER_FAILED)
    if merchant_id is not None:
        clauses.append("c.merchant_id = %(merchant_id)s")
    if currency:
        clauses.append("c.currency = %(currency)s")
    return " AND ".join(clauses)


# The rules of ``ledger_rows`` in one statement (``test_ledger_csv_from_sql_is_byte_identical…``
# holds the two together): per claim its latest active settlement item, else its first failed one
# (for a claim settled outside a batch only a paid item); amounts to the cent; then the totals
# per currency, read in the same snapshot as the rows they add up. Items are picked set-based (one
# pass over the items of the exported claims) rather than by a lookup per claim. A total line is
# marked by its first cell and rewritten to its own six columns by ``ledger_csv``.
_LEDGER_COPY = """
COPY (
    SELECT a, b, c, d, e, f, g, h, i, j, k, l, m, n FROM (
        SELECT 0 AS part, accepted_at, id, NULL AS total_currency,
               {accepted} AS a, id::text AS b, {code} AS c,
               {name} AS d, {incident} AS e, {currency} AS f,
               approved::text AS g, {state} AS h, {batch} AS i,
               {item_status} AS j,
               {reference} AS k,
               CASE WHEN settled THEN {paid_on} END AS l,
               paid::text AS m, (approved - paid)::text AS n
        FROM (
            SELECT c.id, c.accepted_at, c.currency, c.state, c.state = %(settled)s AS settled,
                   round(c.approved_amount, 2) AS approved,
                   CASE WHEN c.state = %(settled)s THEN round(c.approved_amount, 2) ELSE 0.00 END AS paid,
                   c.payment_reference, c.settled_at, m.code, m.name, i.source || ':' || i.external_id AS incident,
                   si.status AS item_status, si.payment_reference AS item_reference, si.paid_at, b.reference AS batch
            FROM claims_claim c
            JOIN merchants_merchant m ON m.id = c.merchant_id
            JOIN incidents_incident i ON i.id = c.incident_id
            LEFT JOIN (
                SELECT DISTINCT ON (s.claim_id) s.claim_id, s.status, s.payment_reference, s.paid_at, s.batch_id
                FROM settlements_settlementitem s
                WHERE s.status <> %(removed)s AND s.claim_id IN (SELECT c.id FROM claims_claim c WHERE {where})
                ORDER BY s.claim_id, s.status = %(failed)s, CASE WHEN s.status = %(failed)s THEN s.id ELSE -s.id END
            ) si ON si.claim_id = c.id AND (c.state <> %(settled)s OR si.status = %(paid)s)
            LEFT JOIN settlements_settlementbatch b ON b.id = si.batch_id
            WHERE {where}
        ) ledger
        UNION ALL
        SELECT 1, NULL, NULL, currency, %(total)s, {currency}, count(*)::text, sum(approved)::text,
               sum(paid)::text, (sum(approved) - sum(paid))::text, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
        FROM (
            SELECT c.currency, round(c.approved_amount, 2) AS approved,
                   CASE WHEN c.state = %(settled)s THEN round(c.approved_amount, 2) ELSE 0.00 END AS paid
            FROM claims_claim c WHERE {where}
        ) totals GROUP BY currency
    ) lines
    ORDER BY part, accepted_at, id, total_currency COLLATE "C"
) TO STDOUT WITH (FORMAT csv)
"""
_TOTAL_MARK = "\x1eTOTAL"  # no text cell of a claim row can start with it (neutralised or not)


def ledger_csv(
    start: date, end: date, bom: bool = True, *, status: str = "", merchant_id: int | None = None, currency: str = ""
) -> Iterator[bytes]:
    """The bytes of ``iter_csv(ledger_rows(start, end, **filters))``, written by PostgreSQL.

    One ``COPY (SELECT …) TO STDOUT`` streams the finished CSV lines: no model, no ``Decimal``,
    no csv module per row (those were most of an export's time); Python only turns COPY's line
    ends into the CRLF csv.writer writes, puts the totals under their own header and hands on
    blocks of about 64 KB.
    """
    if connections[reports_db()].vendor != "postgresql":
        # The embedded demo's SQLite has no COPY: the same bytes from the Python rows.
        yield from iter_csv(ledger_rows(start, end, status=status, merchant_id=merchant_id, currency=currency), bom=bom)
        return
    lo, hi = _day_bounds(start, end)
    params = {
        "tz": str(timezone.get_current_timezone()),
        "lo": lo,
        "hi": hi,
        "accepted": ClaimState.ACCEPTED.value,
        "settled": ClaimState.SETTLED.value,
        "pending": ItemStatus.PENDING.value,
        "paid": ItemStatus.PAID.value,
        "failed": ItemStatus.FAILED.value,
        "removed": ItemStatus.REMOVED.value,
        "merchant_id": merchant_id,
        "currency": currency,
        "total": _TOTAL_MARK,
    }
    sql = _LEDGER_COPY.format(
        where=_ledger_where(status, merchant_id, currency),
        accepted=_sql_date("accepted_at"),
        code=_sql_text("code"),
        name=_sql_text("name"),
        incident=_sql_text("incident"),
        currency=_sql_text("currency"),
        state=_sql_text("state"),
        batch=_sql_text("batch", nullable=True),
        item_status=_sql_text("CASE WHEN settled THEN %(paid)s ELSE item_status END", nullable=True),
        reference=_sql_text("CASE WHEN settled THEN payment_reference ELSE item_reference END", nullable=True),
        paid_on=_sql_date("coalesce(paid_at, settled_at)"),
    )
    mark = _TOTAL_MARK.encode() + b","
    yield from iter_csv([LEDGER_COLUMNS], bom=bom)
    with connections[reports_db()].cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        block: list[bytes] = []
        size = 0
        totals = False
        for line in copy:  # one COPY message per row, ending in the row's one unquoted "\n"
            row = bytes(line[:-1])
            if row.startswith(mark):
                if not totals:
                    totals = True
                    block += [b"", b"".join(iter_csv([LEDGER_TOTAL_COLUMNS], bom=False))[:-2]]
                row = b"TOTAL," + row[len(mark) :].rstrip(b",")
            block.append(row)
            size += len(line)
            if size >= 1 << 16:
                block.append(b"")
                yield b"\r\n".join(block)
                block, size = [], 0
        if not totals:
            block += [b"", b"".join(iter_csv([LEDGER_TOTAL_COLUMNS], bom=False))[:-2]]
        block.append(b"")
        yield b"\r\n".join(block)


# --- Recovery report ----------------------------------------------------------------------

RECOVERY_COLUMNS = [
    "month",
    "provider",
    "currency",
    "incidents",
    "claims_paid",
    "paid_to_merchants",
    "credits_due",
    "credits_filed",
    "credits_received",
    "credits_written_off",
    "credits_still_due",
    "net_cost",
]
RECOVERY_TOTAL_COLUMNS = ["totals", "currency", *RECOVERY_COLUMNS[5:]]


def recovery_csv_rows(rows: list[dict], totals: list[dict]) -> Iterator[list]:
    """The recovery report (``settlements.selectors.recovery_report``) as the page shows it,
    then its totals per currency in a table of their own."""
    from .selectors import RECOVERY_TOTAL_FIELDS

    yield RECOVERY_COLUMNS
    for r in rows:
        yield [
            r["month_label"],
            r["provider"],
            r["currency"],
            len(r["incidents"]),
            sum(i["claims"] for i in r["incidents"]),
            *(r[f] for f in RECOVERY_TOTAL_FIELDS),
        ]
    yield []
    yield RECOVERY_TOTAL_COLUMNS
    for t in totals:
        yield ["TOTAL", t["currency"], *(t[f] for f in RECOVERY_TOTAL_FIELDS)]


# --- Writers ------------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def _cell(value):
    if isinstance(value, Decimal):
        return _money(value)
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, date):
        return value.isoformat()
    if value is None:
        return ""
    return value


def iter_csv(rows: Iterable[list], bom: bool = True) -> Iterator[bytes]:
    """UTF-8 CSV (with a BOM so spreadsheet programs read Chinese), one encoded line at a time."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    if bom:
        yield "\ufeff".encode()
    for row in rows:
        yield writer.writerow([_cell(v) for v in row]).encode()


def csv_bytes(rows: Iterable[list]) -> bytes:
    return b"".join(iter_csv(rows))


_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _normalise_zip(src_file, dst_file) -> None:
    """Copy the XLSX zip with fixed entry times and fixed core properties, entry by entry."""
    with zipfile.ZipFile(src_file) as src, zipfile.ZipFile(dst_file, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            if info.filename == "docProps/core.xml":
                content = _CORE_TIMES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<3>", src.read(info.filename))
                dst.writestr(fixed, content)
                continue
            with src.open(info) as reader, dst.open(fixed, "w") as writer:
                shutil.copyfileobj(reader, writer, 1 << 16)


def xlsx_file(rows: Iterable[list], title: str):
    """The sheet as an open temporary file (at position 0), written in constant memory.

    openpyxl's write-only mode streams the rows to a temporary file as they come; the zip is
    then rewritten entry by entry. Nothing holds the whole sheet, however many rows it has.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    wb.properties.creator = "claims-finance"
    wb.properties.lastModifiedBy = "claims-finance"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    ws = wb.create_sheet(title=title[:31])
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, Decimal):
                c = WriteOnlyCell(ws, value=cents(value))
                c.number_format = "#,##0.00"
                cells.append(c)
            elif isinstance(value, date):
                # A real date cell (a number with a date format), so the column sorts and filters by date.
                c = WriteOnlyCell(ws, value=value)
                c.number_format = "yyyy-mm-dd"
                cells.append(c)
            elif isinstance(value, str) and value.startswith("="):
                # openpyxl would store "=..." as a live formula; a merchant name or bank text stays text.
                c = WriteOnlyCell(ws, value=value)
                c.data_type = "s"
                cells.append(c)
            else:
                cells.append(value)
        ws.append(cells)
    with tempfile.TemporaryFile() as raw:
        wb.save(raw)
        raw.seek(0)
        out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
        _normalise_zip(raw, out)
    out.seek(0)
    return out


def xlsx_bytes(rows: Iterable[list], title: str) -> bytes:
    with xlsx_file(rows, title) as handle:
        return handle.read()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
