"""Recompute the loss estimates of an incident and bring its claims in line.

New hit merchants get a ``proposed`` claim (once the incident is resolved); claims not yet
decided take the new computed amount, with a ``recomputed`` event in the audit trail. A
decided claim is never changed: a different recomputed amount is stored beside it
(``recomputed_amount``) and shown to staff as a note.
"""

from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from claims.models import Claim, ClaimEvent, ClaimState
from core.money import parse_amount

from . import notify, services

UNDECIDED = [
    ClaimState.PROPOSED,
    ClaimState.DRAFT,
    ClaimState.SUBMITTED,
    ClaimState.UNDER_REVIEW,
    ClaimState.INFO_REQUESTED,
]
ZERO = Decimal("0.00")
PROPOSAL_BATCH_SIZE = 500  # merchants per proposal transaction (setting CLAIMS_PROPOSAL_BATCH_SIZE)
FIRST_BATCH_SIZE = 50  # then doubling up to the batch size


def sync_incident_claims(incident, *, now=None, batch_size: int | None = None) -> dict:
    """Run the loss engine for ``incident`` and create/update its claims. Returns counts.

    First, in one transaction: assess (locks the incident row, then the hit merchants' rows by
    id), lock the incident's existing claims by ascending id and bring them in line. Then the
    new proposals, ``batch_size`` merchants per transaction (``propose_batch``): after a large
    outage the first merchants see their proposal while the rest are still being written, and a
    task that dies halfway leaves whole batches that its retry skips.
    """
    from losses.engine import assess_incident

    now = now or timezone.now()
    configured: int = getattr(settings, "CLAIMS_PROPOSAL_BATCH_SIZE", PROPOSAL_BATCH_SIZE)
    size = batch_size or configured
    summary = {"proposed": 0, "updated": 0, "noted": 0, "unchanged": 0}
    with transaction.atomic():
        assessments = {a.merchant_id: a for a in assess_incident(incident, now=now)}
        claims = Claim.objects.select_for_update().filter(incident=incident).order_by("pk")
        have = set()
        for claim in claims:
            have.add(claim.merchant_id)
            assessment = assessments.get(claim.merchant_id)
            summary[_apply_estimate(claim, assessment.compensation if assessment else ZERO, now)] += 1
        to_propose = sorted(mid for mid, a in assessments.items() if mid not in have and a.compensation > 0)
    if not to_propose or not services.may_propose(incident=incident, now=now):
        return summary
    start, step = 0, min(size, FIRST_BATCH_SIZE)
    while start < len(to_propose):
        chunk = to_propose[start : start + step]
        summary["proposed"] += len(services.propose_batch(incident=incident, merchant_ids=chunk, now=now))
        start, step = start + step, min(size, step * 2)  # small first batches: the first proposals show sooner
    return summary


def _apply_estimate(claim, amount: Decimal, now) -> str:
    amount = parse_amount(amount)
    if claim.state in UNDECIDED and not claim.is_decided:
        if amount == claim.computed_amount:
            return "unchanged"
        old = claim.computed_amount
        Claim.objects.filter(pk=claim.pk).update(computed_amount=amount, recomputed_amount=None, recomputed_at=now)
        claim.computed_amount = amount
        event = ClaimEvent.objects.create(
            claim=claim,
            kind=ClaimEvent.Kind.RECOMPUTED,
            actor_role="system",
            action="recompute",
            from_state=claim.state,
            to_state=claim.state,
            text_code="recomputed",
            text_params={"old_amount": str(old), "new_amount": str(amount), "currency": claim.currency},
            amount=amount,
            computed_amount=amount,
            currency=claim.currency,
        )
        if claim.state in (ClaimState.PROPOSED, ClaimState.DRAFT):
            notify.notify_merchant(claim, "recomputed", event)
        else:
            notify.notify_staff(claim, "recomputed", event)
        return "updated"
    # Decided (or closed): never changed silently; a differing figure becomes a note for staff.
    reference = claim.approved_amount if claim.approved_amount is not None else claim.computed_amount
    if amount == (claim.computed_amount if claim.recomputed_amount is None else claim.recomputed_amount):
        return "unchanged"
    if amount == claim.computed_amount:  # back to the figure of the decision: the earlier note no longer holds
        Claim.objects.filter(pk=claim.pk).update(recomputed_amount=None, recomputed_at=now)
        code = "recompute_matches"
    else:
        Claim.objects.filter(pk=claim.pk).update(recomputed_amount=amount, recomputed_at=now)
        code = "recompute_differs"
    params = {
        "new_amount": str(amount),
        "currency": claim.currency,
        "old_amount": str(claim.computed_amount),
        "decided_amount": str(reference),
    }
    event = ClaimEvent.objects.create(
        claim=claim,
        kind=ClaimEvent.Kind.NOTE,
        actor_role="system",
        action="recompute",
        from_state=claim.state,
        to_state=claim.state,
        text_code=code,
        text_params=params,
        amount=amount,
        computed_amount=claim.computed_amount,
        currency=claim.currency,
    )
    notify.notify_staff(claim, "recomputed", event)
    return "noted"
