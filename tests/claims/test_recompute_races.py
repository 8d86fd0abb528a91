"""Claim actions through the API while a real worker recomputes the incident, on PostgreSQL.

Rounds alternate the incident's cause between one the platform answers for (full amount) and
one it does not (0.00), so every recompute changes every undecided claim. Each round fires,
for every claim, the next step of a review loop and an action its state refuses (409), all in
threads, while the recompute task runs in the worker. Nothing may answer 5xx, and after the
task every undecided claim must stand at its current assessment's amount.
"""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from claims.models import Claim, ClaimState
from claims.recompute import UNDECIDED, sync_incident_claims
from claims.tasks import recompute_incident_claims
from incidents.models import Incident
from losses.models import LossAssessment
from merchants.models import Merchant

from .conftest import hit, make_incident

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROUNDS = 6
MERCHANTS = 6
NEXT = {  # the review loop: never decided, so every recompute must reach the claim
    ClaimState.PROPOSED: ("merchant", "submit", {"message": ""}),
    ClaimState.SUBMITTED: ("staff", "start-review", {}),
    ClaimState.UNDER_REVIEW: ("staff", "request-info", {"reason": "missing_information", "message": "Orders?"}),
    ClaimState.INFO_REQUESTED: ("merchant", "answer", {"message": "Attached."}),
}
REFUSED = ("merchant", "accept", {"message": ""})  # an undecided claim cannot be accepted: 409


def test_actions_during_recomputes_leave_undecided_claims_at_the_recomputed_amount(
    celery_worker_thread, make_user, support_user
):
    incident = make_incident("RACE-RECOMPUTE")
    merchants = {}
    for i in range(MERCHANTS):
        merchant = Merchant.objects.create(code=f"m{i}", name=f"Merchant {i}", currency="CNY")
        hit(incident, merchant, sid=f"LS-{i}")
        merchants[merchant.pk] = make_user(f"owner{i}", "merchant", merchants=[merchant])
    sync_incident_claims(incident)
    claims = list(Claim.objects.filter(incident=incident).order_by("pk"))
    assert len(claims) == MERCHANTS

    statuses = []
    lock = threading.Lock()

    def post(user, claim_id, path, body):
        client = APIClient()
        client.force_authenticate(user)
        try:
            response = client.post(f"/api/claims/claims/{claim_id}/{path}/", body, format="json")
            with lock:
                statuses.append((path, response.status_code))
        finally:
            connection.close()

    for round_no in range(ROUNDS):
        cause = "merchant" if round_no % 2 == 0 else "provider"  # 0 % or 100 % responsibility
        Incident.objects.filter(pk=incident.pk).update(cause=cause)
        jobs = []
        for claim in Claim.objects.filter(incident=incident).order_by("pk"):
            for side, path, body in (NEXT.get(claim.state, REFUSED), REFUSED):
                user = merchants[claim.merchant_id] if side == "merchant" else support_user
                jobs.append(threading.Thread(target=post, args=(user, claim.pk, path, body)))
        result = recompute_incident_claims.delay(incident.pk)
        for job in jobs:
            job.start()
        for job in jobs:
            job.join(60)
        summary = result.get(timeout=60)
        assert "missing" not in summary

        current = dict(
            LossAssessment.objects.filter(incident=incident, is_current=True).values_list("merchant_id", "compensation")
        )
        expected_zero = cause == "merchant"
        for claim in Claim.objects.filter(incident=incident, state__in=UNDECIDED):
            assert claim.computed_amount == current[claim.merchant_id], (round_no, claim.state)
            assert (claim.computed_amount == Decimal("0.00")) == expected_zero, (round_no, claim.computed_amount)

    assert statuses and all(code in (200, 409) for _, code in statuses), statuses
    assert {code for path, code in statuses if path == "accept"} == {409}
    assert sum(1 for path, code in statuses if path != "accept" and code == 200) >= MERCHANTS * (ROUNDS - 1)
