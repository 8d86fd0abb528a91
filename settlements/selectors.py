"""Reads: batch lists, eligible totals, issued documents a user may see, the provider recovery report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext

from accounts import roles
from accounts.types import AnyUser
from claims.models import Claim, ClaimState
from core.db import reports_db
from core.money import cents
from merchants.models import missing_payout_details
from merchants.selectors import merchant_ids_for_user

from .models import IssuedDocument, ItemStatus, SettlementBatch, SettlementEvent, SettlementItem
from .services.settlements import eligible_claims


def batches() -> QuerySet[SettlementBatch]:
    return (
        SettlementBatch.objects.select_related("created_by")
        .annotate(n_items=Count("items"))
        .order_by("-created_at", "-id")
    )


def batch_items(*, batch: SettlementBatch) -> QuerySet[SettlementItem]:
    """The batch's items in claim order, with what the batch page shows of each (page it: thousands of rows)."""
    return batch.items.select_related("merchant", "claim__incident").order_by("claim_id", "pk")


def claims_without_payout(*, batch: SettlementBatch) -> list[int]:
    """The open batch's pending claims whose merchant has no payout details: locking is refused while any is left."""
    items = batch.items.filter(missing_payout_details("merchant__"), status=ItemStatus.PENDING)
    return list(items.order_by("claim_id").values_list("claim_id", flat=True))


def batch_events(*, batch: SettlementBatch) -> QuerySet[SettlementEvent]:
    """The batch's audit trail, newest first (the page shows the latest and pages back)."""
    return batch.events.select_related("actor", "item", "payment_import").order_by("-created_at", "-id")


def _money_sum(**status):
    money = DecimalField(max_digits=14, decimal_places=2)
    amount = Sum("amount", filter=Q(**status)) if status else Sum("amount")
    return Coalesce(amount, Value(Decimal("0.00")), output_field=money)


def _totals(items, *keys):
    """Per currency (and ``keys``) over the items, removed ones left out: claims, amount, paid, failed."""
    return (
        items.exclude(status=ItemStatus.REMOVED)
        .order_by()
        .values(*keys, "currency")
        .annotate(
            count=Count("pk"),
            sum_all=_money_sum(),
            sum_paid=_money_sum(status=ItemStatus.PAID),
            sum_failed=_money_sum(status=ItemStatus.FAILED),
        )
        .order_by(*keys, "currency")
    )


def _total_row(row) -> dict:
    return {
        "currency": row["currency"],
        "count": row["count"],
        "amount": cents(row["sum_all"]),
        "paid": cents(row["sum_paid"]),
        "failed": cents(row["sum_failed"]),
    }


def batch_totals(*, batch: SettlementBatch) -> list[dict]:
    """Per currency: claims and amount in the batch (removed ones left out), and how much of it was paid / failed."""
    return [_total_row(row) for row in _totals(batch.items.all())]


def batch_summaries() -> QuerySet[SettlementBatch]:
    """Batches, newest first, with their item counts per status counted in the database (page it)."""

    def count(status):
        return Count("items", filter=Q(items__status=status))

    return SettlementBatch.objects.annotate(
        n_pending=count(ItemStatus.PENDING),
        n_paid=count(ItemStatus.PAID),
        n_failed=count(ItemStatus.FAILED),
        n_removed=count(ItemStatus.REMOVED),
    ).order_by("-created_at", "-id")


def attach_totals(*, batches: Iterable[SettlementBatch]) -> None:
    """Set ``totals`` (per currency, as ``batch_totals``) on each batch of a page: one grouped query for all."""
    by_batch = defaultdict(list)
    ids = [b.pk for b in batches]
    for row in _totals(SettlementItem.objects.filter(batch_id__in=ids), "batch_id"):
        by_batch[row["batch_id"]].append(_total_row(row))
    for b in batches:
        b.totals = by_batch[b.pk]


def eligible_summary(*, period_start: date | None = None, period_end: date | None = None) -> list[dict]:
    rows = (
        eligible_claims(period_start=period_start, period_end=period_end)
        .order_by()
        .values("currency")
        .annotate(count=Count("pk"), amount=Sum("approved_amount"))
        .order_by("currency")
    )
    return [{**row, "amount": cents(row["amount"])} for row in rows]


def visible_documents(*, user: AnyUser) -> QuerySet[IssuedDocument]:
    """Issued documents the user may download: staff all, merchant users their merchants' only."""
    qs = IssuedDocument.objects.select_related("merchant")
    if roles.is_staff_role(user):
        return qs
    if roles.is_merchant_user(user):
        return qs.filter(merchant_id__in=merchant_ids_for_user(user=user))
    return qs.none()


def documents_for_claim(*, user: AnyUser, claim: Claim) -> list[dict]:
    """Per kind: the latest version and its history, for ``templates/documents/_list.html``."""
    groups: dict[str, dict] = {}
    for doc in visible_documents(user=user).filter(claim=claim).order_by("kind", "-version"):
        g = groups.setdefault(
            doc.kind, {"kind": doc.kind, "label": doc.get_kind_display(), "latest": doc, "history": []}
        )
        if doc is not g["latest"]:
            g["history"].append(doc)
    return list(groups.values())


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


RECOVERY_CREDIT_FIGURES = ("due", "filed", "received", "written_off", "still_due")


def recovery_report(*, start: date | None = None, end: date | None = None) -> list[dict]:
    """Per month and provider (with the incidents of its services): paid to merchants, the
    provider's service credits (``sla.ProviderCreditClaim``) as every SLA page counts them
    (``sla.selectors.credit_status``: due, filed, received, written off, still due), net cost.

    Months are the incident's start month (project time zone); credit claims are per
    contract month. Net cost = paid to merchants - credits received, per currency.
    ``start``/``end`` choose the months that contain them, and everything between.
    """
    paid, credit_claims = _recovery_sources(start, end)
    groups: dict[tuple, dict] = {}
    _add_paid(groups, paid)
    _add_credit_claims(groups, credit_claims)
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], groups[k]["provider"], k[2])):
        g = groups[key]
        g["incidents"].sort(key=lambda i: i["key"])
        g["net_cost"] = g["paid"] - g["credit_received"]
        g["month_label"] = f"{g['month']:%Y-%m}"
        rows.append(g)
    return rows


def _recovery_sources(start: date | None, end: date | None) -> tuple[Iterable[dict], Iterable[Any]]:
    """What was paid per incident and currency, and the provider credit claims, of the chosen months."""
    from sla.models import ProviderCreditClaim

    tz = timezone.get_current_timezone()
    # Paid = settled, through a batch or directly (workflow ``settle``): the claim is the record.
    db = reports_db()  # a read-only report: the replica when there is one
    settled = Claim.objects.using(db).filter(state=ClaimState.SETTLED)
    credit_claims = ProviderCreditClaim.objects.using(db).select_related("provider").order_by("period", "contract_code")
    if start:
        lo = start.replace(day=1)
        settled = settled.filter(incident__started_at__gte=timezone.make_aware(datetime.combine(lo, time.min), tz))
        credit_claims = credit_claims.filter(period__gte=lo)
    if end:
        hi = _next_month(end)
        settled = settled.filter(incident__started_at__lt=timezone.make_aware(datetime.combine(hi, time.min), tz))
        credit_claims = credit_claims.filter(period__lt=hi)
    paid = (
        settled.annotate(month=TruncMonth("incident__started_at", tzinfo=tz))
        .values(
            "month",
            "incident__service__provider__name",
            "incident__service__provider_id",
            "incident_id",
            "incident__source",
            "incident__external_id",
            "incident__title",
            "currency",
        )
        .annotate(amount=Sum("approved_amount"), claims=Count("pk"))
        .order_by()
    )
    return paid, credit_claims


def _recovery_group(
    groups: dict[tuple, dict], month: date, provider_id: int, provider_name: str, currency: str
) -> dict:
    """The report row of (month, provider, currency), started empty the first time it is asked for."""
    key = (month, provider_id, currency)
    if key not in groups:
        groups[key] = {
            "month": month,
            "provider": provider_name,
            "currency": currency,
            "incidents": [],
            "paid": Decimal("0.00"),
            **{f"credit_{k}": Decimal("0.00") for k in RECOVERY_CREDIT_FIGURES},
            "credit_claims": [],
        }
    return groups[key]


def _add_paid(groups: dict[tuple, dict], paid: Iterable[dict]) -> None:
    for row in paid:
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        g = _recovery_group(
            groups,
            month,
            row["incident__service__provider_id"],
            row["incident__service__provider__name"],
            row["currency"],
        )
        g["incidents"].append(
            {
                "key": f"{row['incident__source']}:{row['incident__external_id']}",
                "reference": row["incident__external_id"],
                "title": row["incident__title"],
                "claims": row["claims"],
                "paid": cents(row["amount"]),
            }
        )
        g["paid"] += cents(row["amount"])


def _add_credit_claims(groups: dict[tuple, dict], credit_claims: Iterable[Any]) -> None:
    from sla.selectors import claim_credit_status

    for cc in credit_claims:
        g = _recovery_group(groups, cc.period.replace(day=1), cc.provider_id, cc.provider.name, cc.currency)
        figures = claim_credit_status(claim=cc)
        for k in RECOVERY_CREDIT_FIGURES:
            g[f"credit_{k}"] += getattr(figures, k)
        g["credit_claims"].append(
            {
                "contract": cc.contract_code,
                "state": cc.state,
                "claimed": cc.amount_claimed,
                "received": cc.amount_received,
                **{k: getattr(figures, k) for k in RECOVERY_CREDIT_FIGURES},
            }
        )


RECOVERY_TOTAL_FIELDS = ("paid", *(f"credit_{k}" for k in RECOVERY_CREDIT_FIGURES), "net_cost")


def recovery_totals(*, rows: Iterable[dict]) -> list[dict]:
    totals: defaultdict[str, defaultdict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in rows:
        for f in RECOVERY_TOTAL_FIELDS:
            totals[r["currency"]][f] += r[f]
    return [{"currency": c, **v} for c, v in sorted(totals.items())]


def with_payment_failed(*, qs: QuerySet[Claim]) -> QuerySet[Claim]:
    """Annotates ``payment_failed``: the claim is accepted and its latest batch item failed (one
    subquery in the list's own query, so a list page's query count does not grow with its rows)."""
    latest = (
        SettlementItem.objects.filter(claim=OuterRef("pk"))
        .exclude(status=ItemStatus.REMOVED)
        .order_by("-added_at", "-pk")
        .values("status")[:1]
    )
    return qs.annotate(
        payment_failed=Exists(
            Claim.objects.filter(pk=OuterRef("pk"), state=ClaimState.ACCEPTED)
            .annotate(last=Subquery(latest))
            .filter(last=ItemStatus.FAILED)
        )
    )


def payment_status(*, claim: Claim) -> dict | None:
    """Where an accepted claim's money is, for the claim pages: waiting for a batch, in a batch
    being prepared, sent for payment, paid, or failed with the bank's reason (the latest item
    decides: a failed claim joins the next batch as a new item)."""
    if claim.state not in (ClaimState.ACCEPTED, ClaimState.SETTLED):
        return None
    item = (
        SettlementItem.objects.filter(claim=claim)
        .exclude(status=ItemStatus.REMOVED)
        .select_related("batch")
        .order_by("-added_at", "-pk")
        .first()
    )
    if item is None:
        if claim.state == ClaimState.SETTLED:
            return {"code": "paid", "when": claim.settled_at, "reference": claim.payment_reference}
        return {"code": "waiting"}
    status = {"batch": item.batch.reference, "amount": item.amount, "currency": item.currency}
    if item.status == ItemStatus.PAID:
        return status | {"code": "paid", "when": item.paid_at, "reference": item.payment_reference}
    if item.status == ItemStatus.FAILED:
        return status | {
            "code": "failed",
            "when": item.resolved_at,
            "reason": item.failure_reason or gettext("no reason given"),
        }
    if item.batch.exported_at is not None:
        return status | {"code": "exported", "when": item.batch.exported_at}
    return status | {"code": "in_batch", "when": item.added_at}
