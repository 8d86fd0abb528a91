"""Writes: store evaluation snapshots, finalize them, correct them, and move credit claims."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from accounts.types import Actor
from core.errors import InvalidInput, StateConflict
from incidents.models import Incident

from . import evaluation as ev
from . import periods, selectors
from .models import CreditClaimState, ProviderCreditClaim, ProviderCreditClaimEvent, SLAContract, SLAEvaluation, grace
from .periods import Period

logger = logging.getLogger(__name__)

FIGURES = (
    "contract",
    "evaluated_at",
    "provisional",
    "eligible_minutes",
    "excluded_minutes",
    "downtime_minutes",
    "availability_percent",
    "availability_target",
    "tier_credit_percent",
    "credit_percent",
    "credit_amount",
    "currency",
    "claim_deadline",
    "recovery_breaches",
    "response_breaches",
    "details",
)


def _figures(computed: selectors.Computed, *, details: bool = True) -> dict:
    """The stored figures; ``details=False`` leaves out the rows behind them, breaches included
    (comparing a finalized evaluation needs the totals only, so its rows are never built)."""
    r, c = computed.result, computed.contract
    return {
        "contract": c,
        "evaluated_at": r.evaluated_at,
        "provisional": r.provisional,
        "eligible_minutes": r.eligible_minutes,
        "excluded_minutes": r.excluded_minutes,
        "downtime_minutes": r.downtime_minutes,
        "availability_percent": r.availability_percent,
        "availability_target": r.availability_target,
        "tier_credit_percent": r.tier_credit_percent,
        "credit_percent": r.credit_percent,
        "credit_amount": r.credit_amount,
        "currency": c.currency,
        "claim_deadline": r.claim_deadline,
        "recovery_breaches": r.recovery_breaches if details else None,
        "response_breaches": r.response_breaches if details else None,
        "details": selectors.result_json(computed=computed) if details else None,
    }


def _can_finalize(computed: selectors.Computed, now: datetime) -> bool:
    r = computed.result
    return not r.provisional and now >= r.window_end + grace()


def _same_figures(evaluation: SLAEvaluation, figures: dict) -> bool:
    keys = ("availability_percent", "downtime_minutes", "excluded_minutes", "credit_percent", "credit_amount")
    return all(getattr(evaluation, k) == figures[k] for k in keys)


@transaction.atomic
def recompute(*, pairs: Iterable[tuple[str, Period]], now: datetime | None = None) -> list[SLAEvaluation]:
    """Recompute the current evaluation of each ``(code, period)``.

    A missing evaluation is created; an open one is updated in place and finalized once
    its month has ended (plus ``SLA_FINALIZE_GRACE_DAYS``) with no incident still open. A
    finalized one never changes: if the data now gives other figures it is only flagged
    ``outdated`` so that staff can correct it with a reason. Constant number of queries.
    """
    now = now or timezone.now()
    computed = selectors.compute(pairs=pairs, now=now)
    if not computed:
        return []
    codes = {c.code for c in computed}
    periods = {c.period for c in computed}
    current = {
        (e.contract_code, e.period): e
        for e in SLAEvaluation.objects.select_for_update().filter(
            contract_code__in=codes, period__in=periods, is_current=True
        )
    }
    to_create, to_update, flagged, finalized = [], [], [], []
    for item in computed:
        existing = current.get((item.code, item.period))
        figures = _figures(item, details=existing is None or not existing.is_final)
        final_now = _can_finalize(item, now)
        if existing is None:
            obj = SLAEvaluation(
                contract_code=item.code, period=item.period, finalized_at=now if final_now else None, **figures
            )
            to_create.append(obj)
        elif existing.is_final:
            outdated = not _same_figures(existing, figures)
            if existing.outdated != outdated:
                existing.outdated = outdated
                flagged.append(existing)
            continue
        else:
            for key, value in figures.items():
                setattr(existing, key, value)
            existing.finalized_at = now if final_now else None
            existing.updated_at = now
            obj = existing
            to_update.append(obj)
        if final_now:
            finalized.append(obj)
    SLAEvaluation.objects.bulk_create(to_create)
    if to_update:
        SLAEvaluation.objects.bulk_update(to_update, [*FIGURES, "finalized_at", "updated_at"])
    if flagged:
        SLAEvaluation.objects.bulk_update(flagged, ["outdated"])
    _open_claims(finalized)
    return to_create + to_update


def _open_claims(evaluations: list[SLAEvaluation]) -> None:
    """A finalized evaluation with a credit opens a ``due`` credit claim (one per month)."""
    wanted = [e for e in evaluations if e.credit_amount > 0]
    if not wanted:
        return
    ProviderCreditClaim.objects.bulk_create(
        [
            ProviderCreditClaim(
                evaluation=e,
                contract_code=e.contract_code,
                period=e.period,
                provider_id=e.contract.provider_id,
                currency=e.currency,
                amount_claimed=e.credit_amount,
                claim_deadline=e.claim_deadline,
            )
            for e in wanted
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def correct_evaluation(
    *, evaluation: SLAEvaluation, reason: str, by: Actor | None = None, now: datetime | None = None
) -> SLAEvaluation:
    """Replace a finalized evaluation by a new revision computed from today's data."""
    now = now or timezone.now()
    if not reason.strip():
        raise InvalidInput(_("A correction needs a reason."))
    evaluation = SLAEvaluation.objects.select_for_update().get(pk=evaluation.pk)
    if not evaluation.is_current:
        raise InvalidInput(_("Only the current revision can be corrected."))
    if not evaluation.is_final:
        raise InvalidInput(_("An open evaluation is recomputed automatically; only finalized ones are corrected."))
    computed = selectors.compute_one(code=evaluation.contract_code, period=evaluation.period, now=now)
    last = SLAEvaluation.objects.filter(contract_code=evaluation.contract_code, period=evaluation.period).aggregate(
        m=Max("revision")
    )["m"]
    SLAEvaluation.objects.filter(pk=evaluation.pk).update(is_current=False)
    new = SLAEvaluation.objects.create(
        contract_code=evaluation.contract_code,
        period=evaluation.period,
        revision=last + 1,
        reason=reason,
        created_by=by,
        finalized_at=now if not computed.result.provisional else None,
        **_figures(computed),
    )
    claim = (
        ProviderCreditClaim.objects.select_for_update()
        .filter(contract_code=new.contract_code, period=new.period)
        .first()
    )
    if claim is None:
        if new.is_final:
            _open_claims([new])
    elif claim.state == CreditClaimState.DUE:
        claim.evaluation = new
        claim.amount_claimed = new.credit_amount
        claim.claim_deadline = new.claim_deadline
        claim.save(update_fields=["evaluation", "amount_claimed", "claim_deadline", "updated_at"])
    return new


# --------------------------------------------------------------------------- triggers


def pairs_for_span(
    *,
    service_id: int,
    started_at: datetime,
    resolved_at: datetime | None,
    now: datetime | None = None,
    max_months: int = 13,
) -> list[tuple[str, date]]:
    """Every (contract code, month) an outage of ``service_id`` from ``started_at`` to
    ``resolved_at`` (``None``: ongoing, until now) falls in, each in its contract's time zone."""
    now = now or timezone.now()
    end_at = resolved_at or now
    pairs: set[tuple[str, date]] = set()
    for contract in SLAContract.objects.filter(services=service_id):
        zone = ZoneInfo(contract.timezone)
        first = started_at.astimezone(zone).date()
        last = max(end_at, started_at).astimezone(zone).date()
        months = list(periods.months_between(start=first, end=last))[:max_months]
        pairs.update((contract.code, p) for p in months)
    return sorted(pairs)


def pairs_for_incident(
    *, incident: Incident, now: datetime | None = None, max_months: int = 13
) -> list[tuple[str, date]]:
    """Every (contract code, month) whose evaluation an incident can change."""
    return pairs_for_span(
        service_id=incident.service_id,
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        now=now,
        max_months=max_months,
    )


def recompute_for_incident(
    *, incident_id: int, now: datetime | None = None, also: Iterable[tuple[str, Period]] = ()
) -> list[SLAEvaluation]:
    """Recompute the evaluations the incident falls in, plus ``also`` (``(code, "YYYY-MM")``
    pairs it fell in before an edit moved it to another service or month)."""
    incident = Incident.objects.filter(pk=incident_id).first()
    pairs = set(pairs_for_incident(incident=incident, now=now)) if incident is not None else set()
    pairs.update((code, periods.period_date(period)) for code, period in also)
    return recompute(pairs=sorted(pairs), now=now)


def nightly(*, now: datetime | None = None) -> list[SLAEvaluation]:
    """Recompute this and last month of every contract, plus any older month still open."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    pairs = set()
    for contract in SLAContract.objects.all().only("code", "effective_from", "effective_to"):
        for period in (last_month, this_month):
            month_end = ev.last_day(period.year, period.month)
            if contract.effective_from <= month_end and (
                contract.effective_to is None or contract.effective_to >= period
            ):
                pairs.add((contract.code, period))
    for code, period in SLAEvaluation.objects.filter(is_current=True, finalized_at__isnull=True).values_list(
        "contract_code", "period"
    ):
        pairs.add((code, period))
    return recompute(pairs=sorted(pairs), now=now)


# --------------------------------------------------------------------------- credit claims


def _transition(
    claim: ProviderCreditClaim, method: str, by, description: str, expected_amount=None, **kwargs
) -> ProviderCreditClaim:
    """Lock, check, transition, save and record the event, in one transaction."""
    with transaction.atomic():
        claim = ProviderCreditClaim.objects.select_for_update().get(pk=claim.pk)
        if expected_amount is not None and Decimal(expected_amount) != claim.amount_claimed:
            # The page was stale (e.g. a correction changed the amount while it was open).
            raise InvalidInput(
                _("The amount claimed is now %(amount)s %(currency)s; check it and file again.")
                % {"amount": claim.amount_claimed, "currency": claim.currency},
                field="amount_claimed",
            )
        transition = getattr(claim, method)
        if not can_proceed(transition):
            raise StateConflict(
                _("Not recorded: the claim is %(state)s, which does not allow this step.")
                % {"state": claim.get_state_display()},
                extra={"state": claim.state},
            )
        from_state = claim.state
        now = timezone.now()
        transition(at=now, **kwargs)
        claim.save()
        ProviderCreditClaimEvent.objects.create(
            claim=claim,
            at=now,
            actor=by,
            action=method,
            from_state=from_state,
            to_state=claim.state,
            message=description,
            reference=kwargs.get("reference", ""),
            amount=kwargs.get("amount"),
        )
    return claim


def file_claim(
    *, claim: ProviderCreditClaim, by: Actor, reference: str, description: str = "", amount_claimed: Decimal
) -> ProviderCreditClaim:
    """File with the provider: the page and the API follow the same rule.

    The provider's reference is what later letters are matched on, so it is required.
    ``amount_claimed`` must be the claim's amount (what the person filing saw): a stale
    figure is refused rather than filed.
    """
    reference = (reference or "").strip()
    if not reference:
        raise InvalidInput(_("Filing needs the provider's reference."), code="required", field="reference")
    return _transition(
        claim,
        "file",
        by,
        description or _("Filed with the provider"),
        expected_amount=amount_claimed,
        reference=reference,
    )


def acknowledge_claim(
    *, claim: ProviderCreditClaim, by: Actor, reference: str = "", description: str = ""
) -> ProviderCreditClaim:
    return _transition(claim, "acknowledge", by, description or _("Provider acknowledged"), reference=reference)


def credit_claim(
    *, claim: ProviderCreditClaim, by: Actor, amount: Decimal, description: str = ""
) -> ProviderCreditClaim:
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if amount < 0:
        raise InvalidInput(_("The amount received cannot be negative."), field="amount_received")
    if amount > claim.amount_claimed:
        # What a closed claim did not bring in is written off; more than claimed is a typing error.
        raise InvalidInput(
            _("The amount received cannot be more than the amount claimed (%(amount)s %(currency)s).")
            % {"amount": claim.amount_claimed, "currency": claim.currency},
            field="amount_received",
        )
    return _transition(
        claim, "credit", by, description or _("Credit received: %(amount)s") % {"amount": amount}, amount=amount
    )


def reject_claim(*, claim: ProviderCreditClaim, by: Actor, reason: str) -> ProviderCreditClaim:
    if not reason.strip():
        raise InvalidInput(_("A rejection needs the provider's reason."))
    return _transition(claim, "reject", by, reason, reason=reason)
