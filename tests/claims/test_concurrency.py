"""Two staff members decide the same claim at the same moment on PostgreSQL: exactly one wins."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django_fsm import ConcurrentTransition

from claims import services
from claims.models import Claim, ClaimEvent, ClaimState
from core.errors import StateConflict
from tests.factories import Flow, IncidentFactory


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_exactly_one_wins(make_user, merchant, merchant_user, support_user, support_user_2):
    incident = IncidentFactory(external_id="RACE")
    claim = services.propose(incident=incident, merchant=merchant, amount="900", currency="CNY")
    claim = Flow(merchant_user, support_user, support_user_2).under_review(claim)

    barrier = threading.Barrier(2)
    results = {}

    def decide(name, call):
        try:
            barrier.wait(timeout=10)
            results[name] = call()
        except Exception as exc:  # noqa: BLE001 - the loser's exception is the point of the test
            results[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=decide,
            args=(
                "approve",
                lambda: services.approve(claim=claim, by=support_user, reason="loss_confirmed", message="Full amount."),
            ),
        ),
        threading.Thread(
            target=decide,
            args=(
                "reject",
                lambda: services.reject(
                    claim=claim, by=support_user_2, reason="not_platform_caused", message="Not ours."
                ),
            ),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    winners = [r for r in results.values() if isinstance(r, Claim)]
    losers = [r for r in results.values() if isinstance(r, StateConflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    final = Claim.objects.get(pk=claim.pk)
    assert final.state == winners[0].state
    assert final.state in (ClaimState.APPROVED, ClaimState.REJECTED)
    decisions = ClaimEvent.objects.filter(claim=claim, from_state="under_review", kind="transition")
    assert decisions.count() == 1
    assert final.approved_amount == (Decimal("900.00") if final.state == ClaimState.APPROVED else Decimal("0.00"))


@pytest.mark.django_db(transaction=True)
def test_optimistic_lock_refuses_stale_instance(merchant, merchant_user, support_user, support_user_2):
    """Without the row lock, the ConcurrentTransitionMixin still refuses a save from a stale state."""
    incident = IncidentFactory(external_id="STALE")
    claim = services.propose(incident=incident, merchant=merchant, amount="10", currency="CNY")
    claim = Flow(merchant_user, support_user, support_user_2).under_review(claim)
    first, second = Claim.objects.get(pk=claim.pk), Claim.objects.get(pk=claim.pk)
    with transaction.atomic():
        first.approve(by=support_user)
        first.save()
    with pytest.raises(ConcurrentTransition), transaction.atomic():
        second.reject(by=support_user_2)
        second.save()
    assert Claim.objects.get(pk=claim.pk).state == ClaimState.APPROVED
