"""Issue a claim's settlement statement in the background once the claim is settled (after the commit)."""

from django.db import transaction
from django.dispatch import receiver
from django_fsm.signals import post_transition

from claims.models import Claim, ClaimState


@receiver(post_transition, sender=Claim, dispatch_uid="settlements.statement_on_settle")
def statement_on_settle(sender, instance, name, source, target, **kwargs):
    if target != ClaimState.SETTLED:
        return
    from .tasks import issue_settled_statement

    claim_id = instance.pk
    # robust: with eager Celery (the demo) a failed rendering is logged, it never fails the payment.
    transaction.on_commit(lambda: issue_settled_statement.delay(claim_id), robust=True)
