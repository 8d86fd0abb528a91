"""Statements state only what is final: no settlement statement for an undecided claim, and the
monthly statement's "Approved in month" counts accepted (or paid) decisions only, with decisions
awaiting the merchant and disputed ones on their own lines."""

import pytest
from django.utils import timezone

from claims import services as wf
from settlements import documents as docs
from settlements.models import DocumentKind
from settlements.services import InvalidInput
from settlements.services import documents as ds

pytestmark = pytest.mark.django_db


def test_no_statement_for_a_proposed_claim(claims, finance):
    proposed = claims.proposed("6495.28")
    with pytest.raises(InvalidInput, match="only for a decided claim"):
        ds.check_request(kind=DocumentKind.CLAIM_STATEMENT, claim_id=proposed.pk, by=finance)
    with pytest.raises(InvalidInput, match="only for a decided claim"):
        ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=proposed.pk, by=finance)


def test_monthly_totals_count_only_final_decisions(claims, finance):
    merchant = claims.merchant()
    user = claims.user_of(merchant)
    accepted = claims.accepted("100.00", merchant=merchant)
    awaiting = wf.start_review(
        claim=wf.submit(claim=claims.proposed("1000.00", merchant=merchant), by=user), by=claims.support
    )
    awaiting = wf.partially_approve(
        claim=awaiting, by=claims.support, amount="600.00", reason="baseline_adjusted", message="Adjusted."
    )
    disputed = claims.approved("50.00", merchant=merchant)
    disputed = wf.dispute(claim=disputed, by=user, reason="amount_disagreement", statement="More.")
    month = docs.monthly_context(merchant, timezone.localdate().replace(day=1))
    (totals,) = month["totals"]
    assert totals["decided"] == "100.00 CNY"
    assert totals["awaiting"] == "600.00 CNY"
    assert totals["disputed"] == "50.00 CNY"
    assert {r["number"] for r in month["claims"]} == {f"C-{c.pk:06d}" for c in (accepted, awaiting, disputed)}
