"""Settlement batches: add accepted claims, lock, export, import the payment result, settle.

Every function takes the acting user, requires the finance role, runs in one
``transaction.atomic()`` with the batch row locked, and appends ``SettlementEvent`` rows.
Paid claims are settled through ``claims.services.settle`` (audit + notification).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import cast

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django_fsm import ConcurrentTransition, can_proceed

from accounts.types import Actor
from claims import services as workflow
from claims.models import Claim, ClaimState
from core.csv import CsvReader, CsvRejected, FileTooLarge, NotCsvText, check_upload
from core.errors import RowError
from core.money import cents
from merchants.selectors import merchant_ids_for_user

from ..models import (
    BatchState,
    ItemStatus,
    PaymentImport,
    SettlementBatch,
    SettlementEvent,
    SettlementItem,
)
from ..spreadsheet import unneutralise
from . import InvalidInput, NotPermitted, StateConflict, require_finance

PAYMENT_STATUSES = {"paid", "failed"}
MAX_PAYMENT_FILE_MB = 5
MAX_PAYMENT_FILE_BYTES = MAX_PAYMENT_FILE_MB * 1024 * 1024
REQUIRED_COLUMNS = ["claim_id", "amount", "currency", "status", "payment_reference"]
OPTIONAL_COLUMNS = ["failure_reason", "batch"]


# --- Reads used by the writes -------------------------------------------------------------


def eligible_claims(*, period_start: date | None = None, period_end: date | None = None) -> QuerySet[Claim]:
    """Accepted claims with an amount to pay that are in no active batch item, oldest first.

    The period is the day (in the project time zone) the merchant accepted the decision.
    """
    qs = (
        Claim.objects.filter(state=ClaimState.ACCEPTED, approved_amount__gt=0)
        .exclude(settlement_items__is_active=True)
        .annotate(accepted_on=TruncDate("accepted_at", tzinfo=timezone.get_current_timezone()))
        .select_related("merchant", "incident")
    )
    if period_start:
        qs = qs.filter(accepted_on__gte=period_start)
    if period_end:
        qs = qs.filter(accepted_on__lte=period_end)
    return qs.order_by("accepted_at", "pk")


# --- Helpers ------------------------------------------------------------------------------


def _event(
    batch,
    by,
    action,
    *,
    item=None,
    from_state="",
    to_state="",
    message="",
    count=None,
    payment_import=None,
    text_code="",
    text_params=None,
):
    return SettlementEvent.objects.create(
        batch=batch,
        item=item,
        action=action,
        actor=by,
        from_state=from_state,
        to_state=to_state,
        note=message,
        text_code=text_code,
        text_params=text_params or {},
        count=count,
        payment_import=payment_import,
    )


def _locked(batch) -> SettlementBatch:
    pk = batch.pk if isinstance(batch, SettlementBatch) else batch
    try:
        return SettlementBatch.objects.select_for_update().get(pk=pk)
    except SettlementBatch.DoesNotExist:
        raise StateConflict(_("This batch no longer exists.")) from None


BATCH_ACTION_LABELS = {
    "lock": pgettext_lazy("batch action", "lock"),
    "mark_exported": pgettext_lazy("batch action", "export"),
    "complete": pgettext_lazy("batch action", "record the payments"),
    "cancel": pgettext_lazy("batch action", "cancel"),
}


def _transition(batch, by, name, message, *args):
    method = getattr(batch, name)
    if not can_proceed(method):
        raise StateConflict(
            _("A batch in state “%(state)s” cannot do this (%(action)s).")
            % {"state": batch.get_state_display(), "action": BATCH_ACTION_LABELS.get(name, name)}
        )
    before = batch.state
    method(*args, by=by, description=message or None)
    return before


def _save(batch):
    try:
        batch.save()
    except ConcurrentTransition:
        raise StateConflict(_("Someone else changed this batch first; reload it.")) from None


# --- Batch lifecycle ----------------------------------------------------------------------


def create_batch(
    *, by: Actor, period_start: date | None = None, period_end: date | None = None, note: str = ""
) -> SettlementBatch:
    require_finance(user=by)
    if period_start and period_end and period_end < period_start:
        raise InvalidInput(_("The period ends before it starts."), code="bad_period")
    with transaction.atomic():
        batch = SettlementBatch.objects.create(
            reference=f"tmp-{uuid.uuid4().hex[:20]}",
            period_start=period_start,
            period_end=period_end,
            note=(note or "").strip(),
            created_by=by,
        )
        batch.reference = f"SB-{batch.pk:06d}"
        SettlementBatch.objects.filter(pk=batch.pk).update(reference=batch.reference)
        _event(batch, by, "create", to_state=batch.state, message=batch.note)
    return batch


def _refuse_own_merchants(by, claims) -> None:
    """Finance staff never pay their own merchant: refused at add, lock, export and import alike.

    Checked at every step (not only when the claim is finally settled) so that such a claim
    never reaches a payment file, where it would block the whole import.
    """
    own = merchant_ids_for_user(user=by)
    mine = sorted(pk for pk, merchant_id in claims if merchant_id in own)
    if mine:
        raise NotPermitted(
            _("Staff cannot act on claims of a merchant they belong to: %(ids)s")
            % {"ids": ", ".join(f"#{i}" for i in mine)},
            code="own_merchant",
        )


def add_claims(
    *,
    batch: SettlementBatch,
    by: Actor,
    claim_ids: Iterable[int | str] | None = None,
    period_start: date | None = None,
    period_end: date | None = None,
    message: str = "",
) -> list[SettlementItem]:
    """Add eligible claims (the given ids, or all eligible of the period) to an open batch.

    The claims are locked first and their eligibility is read after the lock: a concurrent add
    that won a claim has committed its item by then, so it is seen, and a request naming that
    claim is refused with 409 (all or nothing) instead of answering 200 with nothing added.
    """
    require_finance(user=by)
    with transaction.atomic():
        batch = _locked(batch)
        if batch.state != BatchState.OPEN:
            raise StateConflict(_("Claims can be added to an open batch only."))
        period_start, period_end = period_start or batch.period_start, period_end or batch.period_end
        if claim_ids is not None:
            try:
                ids = {int(i) for i in claim_ids}
            except (TypeError, ValueError, OverflowError):
                raise InvalidInput(_("Claims are chosen by their number."), code="bad_claim_id") from None
            if any(not 0 < i < 2**63 for i in ids):
                raise InvalidInput(_("Claims are chosen by their number."), code="bad_claim_id")
            _refuse_own_merchants(by, Claim.objects.filter(pk__in=ids).values_list("pk", "merchant_id"))
        else:
            ids = set(
                eligible_claims(period_start=period_start, period_end=period_end)
                .exclude(merchant_id__in=merchant_ids_for_user(user=by))
                .values_list("pk", flat=True)
            )
        # Lock the claims, then read what is eligible now; the partial unique constraint stays the
        # last guard against a claim joining two active batches at once.
        list(Claim.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
        claims = list(
            eligible_claims(period_start=period_start, period_end=period_end)
            .filter(pk__in=ids)
            .select_related(None)
            .values_list("pk", "merchant_id", "currency", "approved_amount")
        )
        missing = sorted(ids - {c[0] for c in claims})
        if claim_ids is not None and missing:
            raise StateConflict(
                _("Not added (not accepted, nothing to pay, or already in a batch): %(ids)s")
                % {"ids": ", ".join(f"#{i}" for i in missing)},
                code="not_eligible",
            )
        try:
            with transaction.atomic():
                items = SettlementItem.objects.bulk_create(
                    [
                        SettlementItem(
                            batch=batch,
                            claim_id=pk,
                            merchant_id=merchant_id,
                            currency=currency,
                            amount=cents(cast(Decimal, amount)),  # eligible: approved amount > 0
                            added_by=by,
                        )
                        for pk, merchant_id, currency, amount in sorted(claims)
                    ]
                )
        except IntegrityError:
            # The whole add fails (no item of it stays): the caller's transaction rolls back too.
            raise StateConflict(
                _("A claim joined another batch at the same time; try again."), code="in_batch"
            ) from None
        if items:
            # The audit keeps one event per claim that joined, written in one statement.
            SettlementEvent.objects.bulk_create(
                [
                    SettlementEvent(
                        batch=batch, item=i, action="add", actor=by, to_state=ItemStatus.PENDING, note=message
                    )
                    for i in items
                ]
            )
            _event(
                batch,
                by,
                "add_claims",
                from_state=batch.state,
                to_state=batch.state,
                message=message or "",
                count=len(items),
            )
    return items


def remove_item(*, batch: SettlementBatch, by: Actor, item_id: int | str | None, reason: str) -> SettlementItem:
    require_finance(user=by)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the claim leaves the batch."), code="reason_required")
    with transaction.atomic():
        batch = _locked(batch)
        if batch.state != BatchState.OPEN:
            raise StateConflict(_("Claims can be removed from an open batch only."))
        try:
            if item_id is None:
                raise SettlementItem.DoesNotExist
            item = batch.items.select_for_update().get(pk=int(item_id), status=ItemStatus.PENDING)
        except (SettlementItem.DoesNotExist, TypeError, ValueError):
            raise StateConflict(_("This claim is not pending in the batch.")) from None
        item.status = ItemStatus.REMOVED
        item.is_active = False
        item.failure_reason = reason[:255]
        item.resolved_at = timezone.now()
        item.save()
        _event(
            batch, by, "remove", item=item, from_state=ItemStatus.PENDING, to_state=ItemStatus.REMOVED, message=reason
        )
    return item


def lock(*, batch: SettlementBatch, by: Actor, message: str = "") -> SettlementBatch:
    """Freeze the batch: no claim joins or leaves; each claim must still be accepted at the same amount."""
    require_finance(user=by)
    with transaction.atomic():
        batch = _locked(batch)
        items = list(batch.items.filter(status=ItemStatus.PENDING).select_related("claim", "merchant"))
        _refuse_own_merchants(by, [(i.claim_id, i.merchant_id) for i in items])
        if batch.state == BatchState.OPEN and not items:
            raise StateConflict(
                _("An empty batch cannot be locked: add at least one claim, or cancel the batch."), code="empty"
            )
        stale = [
            i.claim_id
            for i in items
            if i.claim.state != ClaimState.ACCEPTED or cents(i.claim.approved_amount or 0) != i.amount
        ]
        if stale:
            raise StateConflict(
                _("These claims changed since they joined; remove them first: %(ids)s")
                % {"ids": ", ".join(f"#{i}" for i in stale)},
                code="stale",
            )
        unpayable = [i.claim_id for i in items if not i.merchant.has_payout_details]
        if unpayable:
            raise StateConflict(
                _(
                    "These claims' merchants have no payout details, so their payment would fail: %(ids)s. "
                    "Remove them from the batch, or wait until the merchant saves the payout details."
                )
                % {"ids": ", ".join(f"#{i}" for i in unpayable)},
                code="no_payout",
            )
        for i in items:  # the payout account the file pays, as the merchant saved it now
            i.payout_account_name = i.merchant.payout_account_name
            i.payout_bank = i.merchant.payout_bank
            i.payout_account_number = i.merchant.payout_account_number
        SettlementItem.objects.bulk_update(items, ["payout_account_name", "payout_bank", "payout_account_number"])
        before = _transition(batch, by, "lock", message)
        batch.locked_at = timezone.now()
        _save(batch)
        _event(batch, by, "lock", from_state=before, to_state=batch.state, message=message)
    return batch


def cancel(*, batch: SettlementBatch, by: Actor, reason: str) -> SettlementBatch:
    """Give up an open batch (an empty one too), saying why: its pending claims leave it (each with
    its own event) and are eligible again; a locked or exported batch cannot be cancelled."""
    require_finance(user=by)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("Say why the batch is cancelled."), code="reason_required", field="message")
    with transaction.atomic():
        batch = _locked(batch)
        before = _transition(batch, by, "cancel", reason)
        now = timezone.now()
        items = list(batch.items.select_for_update().filter(status=ItemStatus.PENDING).order_by("claim_id"))
        for item in items:
            item.status = ItemStatus.REMOVED
            item.is_active = False
            item.failure_reason = reason[:255]
            item.resolved_at = now
        SettlementItem.objects.bulk_update(items, ["status", "is_active", "failure_reason", "resolved_at"])
        SettlementEvent.objects.bulk_create(
            [
                SettlementEvent(
                    batch=batch,
                    item=i,
                    action="remove",
                    actor=by,
                    from_state=ItemStatus.PENDING,
                    to_state=ItemStatus.REMOVED,
                    note=reason,
                )
                for i in items
            ]
        )
        batch.completed_at = now
        _save(batch)
        _event(batch, by, "cancel", from_state=before, to_state=batch.state, message=reason, count=len(items) or None)
    return batch


def mark_exported(*, batch: SettlementBatch, by: Actor, sha256: str, message: str = "") -> SettlementBatch:
    """Locked -> exported, once; later exports of the same batch give the same file and change nothing."""
    require_finance(user=by)
    with transaction.atomic():
        batch = _locked(batch)
        if batch.state == BatchState.OPEN:
            raise StateConflict(_("Lock the batch before exporting it."), code="not_locked")
        if batch.state != BatchState.LOCKED:
            return batch
        _refuse_own_merchants(by, batch.items.filter(status=ItemStatus.PENDING).values_list("claim_id", "merchant_id"))
        before = _transition(batch, by, "mark_exported", message)
        batch.exported_at = timezone.now()
        batch.export_sha256 = sha256
        _save(batch)
        _event(batch, by, "export", from_state=before, to_state=batch.state, message=message or f"sha256 {sha256}")
    return batch


# --- Payment result import ----------------------------------------------------------------


@dataclass
class ImportResult:
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0
    paid: int = 0
    failed: int = 0
    unchanged: int = 0
    duplicate: bool = False
    batch_state: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self):
        return {
            "ok": self.ok,
            "rows": self.rows,
            "paid": self.paid,
            "failed": self.failed,
            "unchanged": self.unchanged,
            "duplicate": self.duplicate,
            "batch_state": self.batch_state,
            "errors": [{"line": e.line, "column": e.column, "message": e.message} for e in self.errors],
        }


@dataclass
class _Row:
    line: int
    item: SettlementItem
    status: str
    reference: str
    reason: str


def read_upload(*, upload: UploadedFile) -> bytes:
    """The bytes of an uploaded payment file; a file over the size limit is refused before it is read."""
    if upload.size is None or upload.size > MAX_PAYMENT_FILE_BYTES:
        raise InvalidInput(
            _("The payment file may be at most %(mb)s MB.") % {"mb": MAX_PAYMENT_FILE_MB}, code="too_large"
        )
    return upload.read(MAX_PAYMENT_FILE_BYTES + 1)


def _check_file(data: bytes) -> None:
    """Size and type: UTF-8 CSV text, not a spreadsheet or other binary file."""
    try:
        check_upload(data, max_bytes=MAX_PAYMENT_FILE_BYTES)
    except FileTooLarge:
        raise InvalidInput(
            _("The payment file may be at most %(mb)s MB.") % {"mb": MAX_PAYMENT_FILE_MB}, code="too_large"
        ) from None
    except NotCsvText as exc:
        raise InvalidInput(
            _("The payment file must be a CSV text file (this looks like %(type)s); save the sheet as CSV UTF-8.")
            % {"type": exc.found.extension.upper() if exc.found else _("a binary file")},
            code="bad_type",
        ) from None
    except CsvRejected:
        pass  # an empty file: reported as a row error by _parse


def _parse(batch, data: bytes) -> tuple[list[_Row], list[RowError], int]:
    errors: list[RowError] = []
    rows: list[_Row] = []
    count = 0
    try:
        with CsvReader(data, columns=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS, ragged=True) as reader:
            items = {i.claim_id: i for i in batch.items.exclude(status=ItemStatus.REMOVED).select_related("claim")}
            seen: dict[int, int] = {}
            for line_no, values in reader.rows():
                cells = dict(
                    zip(REQUIRED_COLUMNS + OPTIONAL_COLUMNS, (unneutralise(v).strip() for v in values), strict=True)
                )
                if cells["batch"].upper() == "TOTAL":
                    continue  # the totals lines of our own export
                count += 1
                row, row_errors = _parse_row(line_no, cells, items, seen)
                errors.extend(row_errors)
                if row is not None:
                    rows.append(row)
    except CsvRejected as exc:
        errors.extend(e for e in exc.errors if isinstance(e, RowError))
    return rows, errors, count


def _parse_row(line_no: int, cell: dict[str, str], items, seen: dict[int, int]) -> tuple[_Row | None, list[RowError]]:
    try:
        claim_id = int(cell["claim_id"])
    except ValueError:
        return None, [RowError(line_no, "claim_id", _("Not a claim number."))]
    item = items.get(claim_id)
    if item is None:
        return None, [RowError(line_no, "claim_id", _("Claim #%(id)s is not in this batch.") % {"id": claim_id})]
    if claim_id in seen:
        message = _("Claim #%(id)s already on line %(l)s.") % {"id": claim_id, "l": seen[claim_id]}
        return None, [RowError(line_no, "claim_id", message)]
    seen[claim_id] = line_no
    row_errors = []
    try:
        amount = Decimal(cell["amount"])
        if not amount.is_finite():
            raise InvalidOperation
        rounded = cents(amount)  # 1e309 is a finite Decimal that no cent amount can hold
    except InvalidOperation:
        row_errors.append(RowError(line_no, "amount", _("Not an amount.")))
    else:
        if rounded != item.amount or amount != rounded:
            row_errors.append(
                RowError(line_no, "amount", _("Expected %(a)s, got %(b)s.") % {"a": item.amount, "b": cell["amount"]})
            )
    if cell["currency"].upper() != item.currency:
        row_errors.append(
            RowError(line_no, "currency", _("Expected %(a)s, got %(b)s.") % {"a": item.currency, "b": cell["currency"]})
        )
    status = cell["status"].lower()
    reference = cell["payment_reference"]
    if status not in PAYMENT_STATUSES:
        row_errors.append(RowError(line_no, "status", _("Use “paid” or “failed”.")))
    elif status == "paid" and not reference:
        row_errors.append(RowError(line_no, "payment_reference", _("A paid row needs the payment reference.")))
    elif len(reference) > 120:
        row_errors.append(RowError(line_no, "payment_reference", _("At most 120 characters.")))
    if not row_errors and item.status != ItemStatus.PENDING:
        same = item.status == status and (status == "failed" or item.payment_reference == reference)
        if not same:
            row_errors.append(
                RowError(
                    line_no,
                    "status",
                    _("Claim #%(id)s is already recorded as %(s)s %(r)s.")
                    % {"id": claim_id, "s": item.get_status_display(), "r": item.payment_reference},
                )
            )
    if row_errors:
        return None, row_errors
    return _Row(line_no, item, status, reference, cell["failure_reason"]), []


def import_payments(*, batch: SettlementBatch, by: Actor, data: bytes, filename: str = "payments.csv") -> ImportResult:
    """Apply a payment result file. All or nothing: any bad row and nothing changes.

    The same file applied twice changes nothing (recognised by its hash; rows already
    recorded with the same outcome are unchanged anyway).
    """
    require_finance(user=by)
    digest = hashlib.sha256(data).hexdigest()
    _check_file(data)
    with transaction.atomic():
        batch = _locked(batch)
        result = ImportResult(batch_state=batch.state)
        previous = batch.imports.filter(sha256=digest).first()
        if previous is not None:
            result.duplicate = True
            result.rows = previous.rows
            result.unchanged = previous.rows
            return result
        if batch.state not in (BatchState.EXPORTED, BatchState.PAID, BatchState.PARTIALLY_PAID, BatchState.FAILED):
            raise StateConflict(_("Export the batch before importing the payment result."))
        _refuse_own_merchants(by, batch.items.filter(status=ItemStatus.PENDING).values_list("claim_id", "merchant_id"))
        rows, errors, count = _parse(batch, data)
        result.rows = count
        if errors:
            result.errors = errors
            return result
        now = timezone.now()
        for row in rows:
            _apply_payment_row(batch, by, row, filename=filename, now=now, result=result)
        from .. import exports

        applied = PaymentImport.objects.create(
            batch=batch,
            filename=filename[:255],
            sha256=digest,
            result_sha256=exports.sha256(exports.csv_bytes(exports.batch_rows(batch))),
            rows=count,
            paid=result.paid,
            failed=result.failed,
            unchanged=result.unchanged,
            imported_by=by,
        )
        _event(
            batch,
            by,
            "import",
            from_state=batch.state,
            to_state=batch.state,
            payment_import=applied,
        )
        _complete_if_settled(batch, by, filename=filename, now=now)
        result.batch_state = batch.state
    return result


def _apply_payment_row(
    batch: SettlementBatch, by: Actor, row: _Row, *, filename: str, now: datetime, result: ImportResult
) -> None:
    """One row of a payment file: a pending item becomes paid (the claim is settled) or failed
    (the claim goes to the next batch); an item already resolved is left as it is."""
    item = SettlementItem.objects.select_for_update().get(pk=row.item.pk)
    if item.status != ItemStatus.PENDING:
        result.unchanged += 1
        return
    if row.status == "paid":
        item.status = ItemStatus.PAID
        item.payment_reference = row.reference
        item.paid_at = item.resolved_at = now
        item.save()
        workflow.settle(claim=item.claim_id, by=by, payment_reference=row.reference)
        result.paid += 1
        code, params = "paid", {"reference": row.reference, "file": filename, "line": row.line}
    else:
        item.status = ItemStatus.FAILED
        item.is_active = False
        item.failure_reason = row.reason[:255]  # the bank's words, or none (shown as "no reason given")
        item.payment_reference = row.reference
        item.resolved_at = now
        item.save()
        result.failed += 1
        code, params = "failed", {"reason": item.failure_reason, "file": filename, "line": row.line}
        workflow.record_payment_failure(
            claim_id=item.claim_id, by=by, amount=item.amount, reason=item.failure_reason, batch=batch.reference
        )
    _event(
        batch,
        by,
        "payment",
        item=item,
        from_state=ItemStatus.PENDING,
        to_state=item.status,
        text_code=code,
        text_params=params,
    )


def _complete_if_settled(batch: SettlementBatch, by: Actor, *, filename: str, now: datetime) -> None:
    """An exported batch with no pending item left is complete: paid, partially paid or failed."""
    if batch.state == BatchState.EXPORTED and not batch.items.filter(status=ItemStatus.PENDING).exists():
        all_paid = not batch.items.filter(status=ItemStatus.FAILED).exists()
        none_paid = not batch.items.filter(status=ItemStatus.PAID).exists()
        before = _transition(batch, by, "complete", filename, all_paid, none_paid)
        batch.completed_at = now
        _save(batch)
        _event(batch, by, "complete", from_state=before, to_state=batch.state, message=filename)
