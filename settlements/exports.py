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

from django.utils import timezone

from claims.models import Claim, ClaimState
from core.db import reports_db
from core.money import cents

from .models import ItemStatus, SettlementBatch, SettlementItem
from .spreadsheet import neutralise

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
CHUNK = 2000


def _local_date(value, tz=None) -> str:
    return timezone.localtime(value, tz).date().isoformat() if value else ""


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
        ]
    for currency, (count, amount) in sorted(totals.items()):
        yield ["TOTAL", count, "", "", "", currency, amount, "", "", ""]


# --- Ledger -------------------------------------------------------------------------------


def _day_bounds(start: date, end: date):
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def ledger_claims(start: date, end: date):
    """Claims accepted (by the merchant) from ``start`` to ``end`` inclusive, local days: the
    columns a ledger row shows, as tuples (``LEDGER_CLAIM_FIELDS``), by acceptance time."""
    lo, hi = _day_bounds(start, end)
    return (
        Claim.objects.using(reports_db())  # a read-only report: the replica when there is one
        .filter(
            state__in=[ClaimState.ACCEPTED, ClaimState.SETTLED],
            approved_amount__isnull=False,
            accepted_at__gte=lo,
            accepted_at__lt=hi,
        )
        .order_by("accepted_at", "pk")
        .values_list(*LEDGER_CLAIM_FIELDS)
    )


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
)
LEDGER_ITEM_FIELDS = ("claim_id", "status", "payment_reference", "paid_at", "batch__reference")


def _ledger_claim(values) -> SimpleNamespace:
    pk, accepted_at, currency, approved, state, reference, settled_at, code, name, source, external_id = values
    return SimpleNamespace(
        pk=pk,
        accepted_at=accepted_at,
        currency=currency,
        approved_amount=approved,
        state=state,
        payment_reference=reference,
        settled_at=settled_at,
        merchant=SimpleNamespace(code=code, name=name),
        incident=SimpleNamespace(key=f"{source}:{external_id}"),
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
        nxt = qs.filter(accepted_at__gte=last.accepted_at).exclude(accepted_at=last.accepted_at, pk__lte=last.pk)
        chunk = [_ledger_claim(v) for v in nxt[:size]] if len(chunk) == size else []


def ledger_rows(start: date, end: date) -> Iterator[list]:
    """Header, one row per claim, then per currency: approved, paid and outstanding totals."""
    yield LEDGER_COLUMNS
    totals: dict[str, list] = {}
    tz = timezone.get_current_timezone()
    for chunk in keyset_chunks(ledger_claims(start, end)):
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
            t = totals.setdefault(claim.currency, [0, Decimal("0.00"), Decimal("0.00")])
            t[0] += 1
            t[1] += cents(claim.approved_amount)
            t[2] += paid
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
                _local_date((item.paid_at if item else None) or claim.settled_at, tz) if settled else "",
                paid,
                cents(claim.approved_amount) - paid,
            ]
    # Totals sit in the amount columns they add up (approved, paid, outstanding), nothing under
    # payment_status or payment_reference.
    for currency, (count, approved, paid) in sorted(totals.items()):
        yield ["TOTAL", count, "", "", "", currency, approved, "", "", "", "", "", paid, approved - paid]


# --- Writers ------------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def _cell(value):
    if isinstance(value, Decimal):
        return _money(value)
    if isinstance(value, str):
        return neutralise(value)
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
                c.number_format = "0.00"
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
