"""Issue PDF documents: render, store through Django's storage with their SHA-256, version them.

A document (kind + subject) is never overwritten. ``issue`` without a reason returns the
latest version if there is one (idempotent: a repeated task does nothing); with a reason it
issues version n+1, once per ``request_id``: the same request run again (a task redelivered
after a worker crash) returns the version it issued. Called from the Celery task
``settlements.tasks.issue_document``.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.types import Actor, AnyUser
from claims.models import Claim, ClaimState
from merchants.models import Merchant

from .. import documents as docs
from ..models import DocumentKind, IssuedDocument
from . import InvalidInput, NotPermitted

log = logging.getLogger(__name__)
Period = date | str | None  # a monthly statement's month: a date in it or "YYYY-MM"
PREFIX: dict[str, str] = {
    DocumentKind.CLAIM_STATEMENT: "ST",
    DocumentKind.EVIDENCE_PACK: "EP",
    DocumentKind.MONTHLY_STATEMENT: "MS",
}


STATEMENT_STATES = (
    ClaimState.APPROVED,
    ClaimState.PARTIALLY_APPROVED,
    ClaimState.REJECTED,
    ClaimState.ACCEPTED,
    ClaimState.SETTLED,
)


def subject_for(
    *, kind: str, claim_id: int | str | None = None, merchant_id: int | str | None = None, period: Period = None
) -> tuple[str, Claim | None, Merchant, date | None]:
    """(subject_key, claim, merchant, period) for a document request.

    Each refusal names the request's field (``claim``, ``merchant``, ``period``, ``kind``: the
    page form's and the API body's names), so the page marks the field that was wrong.
    """
    if kind in (DocumentKind.CLAIM_STATEMENT, DocumentKind.EVIDENCE_PACK):
        if claim_id is None or str(claim_id).strip() == "":
            raise InvalidInput(_("Enter the claim number."), code="claim_required", field="claim")
        try:
            claim = Claim.objects.select_related("merchant").get(pk=claim_id)
        except (Claim.DoesNotExist, ValueError, TypeError):
            raise InvalidInput(_("No claim with this number."), code="unknown_claim", field="claim") from None
        if kind == DocumentKind.CLAIM_STATEMENT and claim.state not in STATEMENT_STATES:
            # A statement states an amount payable: for a proposal or a claim under review
            # there is none yet, and a disputed decision is not final.
            raise InvalidInput(
                _("A settlement statement is issued only for a decided claim; claim #%(id)s is “%(state)s”.")
                % {"id": claim.pk, "state": claim.get_state_display()},
                code="not_decided",
                field="claim",
            )
        return f"claim:{claim.pk}", claim, claim.merchant, None
    if kind == DocumentKind.MONTHLY_STATEMENT:
        if merchant_id is None or str(merchant_id).strip() == "":
            raise InvalidInput(
                _("Choose a merchant for a monthly statement."), code="merchant_required", field="merchant"
            )
        try:
            merchant = Merchant.objects.get(pk=merchant_id)
        except (Merchant.DoesNotExist, ValueError, TypeError):
            raise InvalidInput(_("Unknown merchant."), code="unknown_merchant", field="merchant") from None
        if isinstance(period, str):
            try:
                period = date.fromisoformat(period[:7] + "-01")
            except ValueError:
                period = None
        if not isinstance(period, date):
            raise InvalidInput(_("Choose a month."), code="bad_period", field="period")
        period = period.replace(day=1)
        return f"merchant:{merchant.pk}:{period:%Y-%m}", None, merchant, period
    raise InvalidInput(_("Unknown document kind."), code="bad_kind", field="kind")


def _build_context(kind: str, claim: Claim | None, merchant: Merchant, period: date | None) -> dict:
    # ``subject_for`` gives a claim for the claim documents and a month for the monthly one.
    if claim is not None:
        return docs.claim_context(claim, evidence=kind == DocumentKind.EVIDENCE_PACK)
    assert period is not None
    return docs.monthly_context(merchant, period)


def _document_number(kind: str, claim: Claim | None, merchant: Merchant, period: date | None) -> str:
    if claim is not None:
        return f"{PREFIX[kind]}-C{claim.pk:06d}"
    return f"{PREFIX[kind]}-{merchant.code}-{period:%Y-%m}"


def render(
    *,
    kind: str,
    claim: Claim | None,
    merchant: Merchant,
    period: date | None,
    version: int,
    issued_at: datetime,
) -> tuple[bytes, int]:
    """The PDF of one version: a pure function of the database rows, the version and its issue time."""
    ctx = _build_context(kind, claim, merchant, period)
    number = _document_number(kind, claim, merchant, period)
    ctx["issue"] = {
        "number": number,
        "version": version,
        "template_version": docs.TEMPLATE_VERSIONS[kind],
        "issued_at": docs.Clock(merchant.timezone).dt(issued_at),
    }
    return docs.render_pdf(kind, ctx, identifier=f"{number}/v{version}")


def _check_can_issue(by: AnyUser | None) -> None:
    if by is not None and not roles.is_staff_role(by):
        raise NotPermitted(_("Only staff may issue documents."))


def check_request(
    *,
    kind: str,
    claim_id: int | str | None = None,
    merchant_id: int | str | None = None,
    period: Period = None,
    by: AnyUser | None = None,
    reason: str = "",
) -> IssuedDocument | None:
    """Validate a request before it is queued (raises InvalidInput / NotPermitted).

    Returns the latest version when the request would issue nothing new (no reason given
    and the document exists), else None.
    """
    _check_can_issue(by)
    key, _claim, _merchant, _period = subject_for(kind=kind, claim_id=claim_id, merchant_id=merchant_id, period=period)
    if (reason or "").strip():
        return None
    return IssuedDocument.objects.filter(kind=kind, subject_key=key).order_by("-version").first()


def issued_for_request(*, request_id: uuid.UUID | None, kind: str, key: str) -> IssuedDocument | None:
    """The version an earlier run of this request issued, if any (the id must name the same document)."""
    if request_id is None:
        return None
    doc = IssuedDocument.objects.filter(request_id=request_id).first()
    if doc is not None and (doc.kind, doc.subject_key) != (kind, key):
        raise ValueError(f"Request {request_id} issued {doc}, not {kind} {key}.")
    return doc


def issue(
    *,
    kind: str,
    claim_id: int | str | None = None,
    merchant_id: int | str | None = None,
    period: Period = None,
    by: Actor | None = None,
    reason: str = "",
    request_id: uuid.UUID | str | None = None,
) -> IssuedDocument:
    """Issue a version (see the module docstring); ``request_id`` (a UUID) makes a re-run return it."""
    _check_can_issue(by)
    reason = (reason or "").strip()
    request_id = uuid.UUID(str(request_id)) if request_id else None
    key, claim, merchant, period = subject_for(kind=kind, claim_id=claim_id, merchant_id=merchant_id, period=period)
    for _attempt in range(3):
        done = issued_for_request(request_id=request_id, kind=kind, key=key)
        if done is not None:
            return done
        latest = IssuedDocument.objects.filter(kind=kind, subject_key=key).order_by("-version").first()
        if latest is not None and not reason:
            return latest
        version = latest.version + 1 if latest else 1
        issued_at = timezone.now().replace(microsecond=0)
        pdf, pages = render(
            kind=kind, claim=claim, merchant=merchant, period=period, version=version, issued_at=issued_at
        )
        digest = hashlib.sha256(pdf).hexdigest()
        doc = IssuedDocument(
            kind=kind,
            subject_key=key,
            claim=claim,
            merchant=merchant,
            period=period,
            version=version,
            template_version=docs.TEMPLATE_VERSIONS[kind],
            reason=reason or ("" if version == 1 else "reissue"),
            sha256=digest,
            size=len(pdf),
            pages=pages,
            issued_at=issued_at,
            issued_by=by,
            request_id=request_id,
        )
        # The file is written before its row commits (a row never points at a missing file); if
        # the row does not commit, the file is deleted here, or by ``sweep_orphan_files`` when
        # the process died first.
        try:
            with transaction.atomic():
                doc.file.save(f"{digest[:16]}.pdf", ContentFile(pdf), save=False)
                doc.save()
        except IntegrityError:
            doc.file.storage.delete(doc.file.name or "")
            continue  # this version or this request was issued at the same time: look again
        except BaseException:
            if doc.file.name:
                doc.file.storage.delete(doc.file.name)
            raise
        return doc
    raise InvalidInput(_("Could not issue the document; try again."), code="busy")


def issue_settled_statement(*, claim_id: int) -> IssuedDocument | None:
    """The settlement statement of a settled claim, issued once its payment is recorded.

    Idempotent: one statement per settlement of the claim. A statement issued since the claim was
    settled (by hand, or by an earlier run) is kept; one issued before (when the claim was only
    accepted, or in the same second) is followed by a new version that shows the payment (and a
    redelivered run finds that version by its request id). The request id is derived from
    the claim and its settlement time, so two runs at once still issue one version. A claim that is
    no longer (or not yet) settled gets nothing.
    """
    claim = Claim.objects.filter(pk=claim_id, state=ClaimState.SETTLED).only("pk", "settled_at").first()
    if claim is None or claim.settled_at is None:
        return None
    key = f"claim:{claim.pk}"
    latest = (
        IssuedDocument.objects.filter(kind=DocumentKind.CLAIM_STATEMENT, subject_key=key).order_by("-version").first()
    )
    # ``issued_at`` is kept to the second: only one issued after that second is surely later.
    if latest is not None and latest.issued_at > claim.settled_at:
        return latest
    request_id = uuid.uuid5(uuid.NAMESPACE_URL, f"settled-statement:{claim.pk}:{claim.settled_at.isoformat()}")
    return issue(
        kind=DocumentKind.CLAIM_STATEMENT,
        claim_id=claim.pk,
        reason="" if latest is None else _("Issued again: the claim was paid."),
        request_id=request_id,
    )


ORPHAN_GRACE = timedelta(hours=1)  # longer than any transaction that issues a document


def sweep_orphan_files(*, now: datetime | None = None, grace: timedelta = ORPHAN_GRACE) -> list[str]:
    """Delete stored PDF files that no issued document refers to, once older than ``grace``.

    A worker killed between writing a file and committing its row, or an outer transaction
    rolled back after ``issue``, leaves such a file. Younger files may belong to a transaction
    still running and are left alone. Returns the names deleted.
    """
    storage = IssuedDocument._meta.get_field("file").storage
    now = now or timezone.now()
    if not storage.exists("documents"):
        return []

    def walk(folder):
        folders, files = storage.listdir(folder)
        for name in files:
            yield f"{folder}/{name}"
        for sub in folders:
            yield from walk(f"{folder}/{sub}")

    known = set(IssuedDocument.objects.values_list("file", flat=True))
    removed = []
    for name in walk("documents"):
        if name not in known and storage.get_modified_time(name) <= now - grace:
            storage.delete(name)
            removed.append(name)
    return removed


def history(*, kind: str, key: str) -> QuerySet[IssuedDocument]:
    return IssuedDocument.objects.filter(kind=kind, subject_key=key).order_by("-version")


def _last_month(now: datetime, tz: tzinfo) -> date:
    """First day of the month before the current one in the time zone ``tz``."""
    return (now.astimezone(tz).date().replace(day=1) - timedelta(days=1)).replace(day=1)


def monthly_statement_due(*, now: datetime | None = None) -> list[tuple[int, date]]:
    """(merchant id, period) of every merchant with a claim decided or settled in its last month.

    "Last month" is the month before the current one in the merchant's time zone, so a
    statement is due only once that month is over for the merchant.
    """
    now = now or timezone.now()
    by_zone = defaultdict(list)
    for pk, tzname in Merchant.objects.values_list("pk", "timezone").order_by("pk"):
        by_zone[docs.Clock(tzname).tz].append(pk)
    due: list[tuple] = []
    for tz, merchant_ids in by_zone.items():
        period = _last_month(now, tz)
        lo, hi = docs.month_bounds(period, tz)
        ids = (
            Claim.objects.filter(merchant_id__in=merchant_ids)
            .filter(Q(decided_at__gte=lo, decided_at__lt=hi) | Q(settled_at__gte=lo, settled_at__lt=hi))
            .values_list("merchant_id", flat=True)
            .distinct()
        )
        due.extend((pk, period) for pk in ids)
    return sorted(due)


def issue_monthly_statements(*, now: datetime | None = None) -> dict[str, Any]:
    """Issue last month's statement of every merchant that had claims decided or settled in it.

    Idempotent: a statement that exists already is left alone (no new version). One merchant's
    failure is logged and does not stop the others.
    """
    issued, existing, failed = [], 0, []
    for merchant_id, period in monthly_statement_due(now=now):
        key = f"merchant:{merchant_id}:{period:%Y-%m}"
        if IssuedDocument.objects.filter(kind=DocumentKind.MONTHLY_STATEMENT, subject_key=key).exists():
            existing += 1
            continue
        try:
            doc = issue(kind=DocumentKind.MONTHLY_STATEMENT, merchant_id=merchant_id, period=period)
        except Exception:
            log.exception("Monthly statement %s could not be issued", key)
            failed.append(key)
            continue
        issued.append(doc.subject_key)
    return {"issued": issued, "existing": existing, "failed": failed}
