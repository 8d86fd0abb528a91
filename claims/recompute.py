"""Recompute the loss estimates of an incident and bring its claims in line.

New hit merchants get a ``proposed`` claim (once the incident is resolved); claims not yet
decided take the new computed amount, with a ``recomputed`` event in the audit trail. A
decided claim is never changed: a different recomputed amount is stored beside it
(``recomputed_amount``) and shown to staff as a note.
"""

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.models import Claim, ClaimEvent, ClaimState
from incidents.models import IncidentState

from . import notify, services

UNDECIDED = [
    ClaimState.PROPOSED,
    ClaimState.DRAFT,
    ClaimState.SUBMITTED,
    ClaimState.UNDER_REVIEW,
    ClaimState.INFO_REQUESTED,
]
ZERO = Decimal("0.00")


def sync_incident_claims(incident, *, now=None) -> dict:
    """Run the loss engine for ``incident`` and create/update its claims. Returns counts."""
    from losses.engine import assess_incident

    now = now or timezone.now()
    summary = {"proposed": 0, "updated": 0, "noted": 0, "unchanged": 0}
    with transaction.atomic():
        assessments = {a.merchant_id: a for a in assess_incident(incident, now=now)}
        claims = {c.merchant_id: c for c in Claim.objects.select_for_update().filter(incident=incident)}
        for merchant_id, assessment in assessments.items():
            claim = claims.get(merchant_id)
            if claim is None:
                if (
                    incident.state == IncidentState.RESOLVED
                    and assessment.compensation > 0
                    and (services.filing_deadline(incident) is None or now <= services.filing_deadline(incident))
                ):
                    services.propose(
                        incident=incident,
                        merchant=assessment.merchant,
                        amount=assessment.compensation,
                        currency=assessment.currency,
                    )
                    summary["proposed"] += 1
                continue
            summary[_apply_estimate(claim, assessment.compensation, now)] += 1
        for merchant_id, claim in claims.items():
            if merchant_id not in assessments:
                summary[_apply_estimate(claim, ZERO, now)] += 1
    return summary


def _apply_estimate(claim, amount: Decimal, now) -> str:
    amount = services.money(amount)
    if claim.state in UNDECIDED and not claim.is_decided:
        if amount == claim.computed_amount:
            return "unchanged"
        old = claim.computed_amount
        Claim.objects.filter(pk=claim.pk).update(computed_amount=amount, recomputed_amount=None, recomputed_at=now)
        claim.computed_amount = amount
        message = _("Estimate recomputed: %(old)s → %(new)s %(cur)s.") % {
            "old": old,
            "new": amount,
            "cur": claim.currency,
        }
        event = ClaimEvent.objects.create(
            claim=claim,
            kind=ClaimEvent.Kind.RECOMPUTED,
            actor_role="system",
            action="recompute",
            from_state=claim.state,
            to_state=claim.state,
            message=message,
            amount=amount,
            computed_amount=amount,
            currency=claim.currency,
        )
        if claim.state in (ClaimState.PROPOSED, ClaimState.DRAFT):
            notify.notify_merchant(claim, "recomputed", event, body=message)
        else:
            notify.notify_staff(claim, "recomputed", event, body=message)
        return "updated"
    # Decided (or closed): never changed silently; a differing figure becomes a note for staff.
    reference = claim.approved_amount if claim.approved_amount is not None else claim.computed_amount
    if amount == (claim.computed_amount if claim.recomputed_amount is None else claim.recomputed_amount):
        return "unchanged"
    if amount == claim.computed_amount:  # back to the figure of the decision: the earlier note no longer holds
        Claim.objects.filter(pk=claim.pk).update(recomputed_amount=None, recomputed_at=now)
        message = _("Recomputed estimate %(new)s %(cur)s matches the computed amount used for the decision again.") % {
            "new": amount,
            "cur": claim.currency,
        }
    else:
        Claim.objects.filter(pk=claim.pk).update(recomputed_amount=amount, recomputed_at=now)
        message = _(
            "Recomputed estimate %(new)s %(cur)s differs from the computed amount %(old)s used for the decision "
            "(decided amount %(ref)s); the claim was not changed."
        ) % {"new": amount, "cur": claim.currency, "old": claim.computed_amount, "ref": reference}
    event = ClaimEvent.objects.create(
        claim=claim,
        kind=ClaimEvent.Kind.NOTE,
        actor_role="system",
        action="recompute",
        from_state=claim.state,
        to_state=claim.state,
        message=message,
        amount=amount,
        computed_amount=claim.computed_amount,
        currency=claim.currency,
    )
    notify.notify_staff(claim, "recomputed", event, body=message)
    return "noted"
