"""Every transition of the claim workflow and every refusal: role, owner, state, window, amounts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from claims import services
from claims.models import Claim, ClaimEvent, ClaimNotification, ClaimState
from core.errors import InvalidInput, NotPermitted, StateConflict
from tests.factories import IncidentFactory, pdf_upload, png_upload

pytestmark = pytest.mark.django_db
S = ClaimState


def last_event(claim):
    return ClaimEvent.objects.filter(claim=claim).order_by("-id").first()


# --- Happy paths, one per transition ---------------------------------------------------------


def test_proposal_is_created_with_estimate_and_expiry(proposed, merchant_user):
    assert proposed.state == S.PROPOSED
    assert proposed.computed_amount == Decimal("1200.00")
    assert proposed.expires_at is not None
    event = last_event(proposed)
    assert (event.kind, event.actor_role, event.to_state) == ("created", "system", "proposed")
    assert ClaimNotification.objects.filter(recipient=merchant_user, claim=proposed).exists()


def test_submit_proposed_one_click_sets_deadlines_and_notifies_staff(
    proposed, merchant_user, support_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        claim = services.submit(claim=proposed, by=merchant_user)
    assert claim.state == S.SUBMITTED
    assert claim.claimed_amount == Decimal("1200.00")
    assert claim.due_at == claim.first_response_due_at == claim.submitted_at + timedelta(hours=24)
    assert claim.decision_due_at == claim.submitted_at + timedelta(hours=72)
    event = last_event(claim)
    assert (event.actor, event.actor_role, event.from_state, event.to_state) == (
        merchant_user,
        "merchant",
        "proposed",
        "submitted",
    )
    assert ClaimNotification.objects.filter(recipient=support_user, claim=claim).exists()
    assert any(support_user.email in m.to for m in mail.outbox)
    # The claim's one audit trail recorded who moved it from where to where.
    assert ClaimEvent.objects.filter(
        claim=claim, from_state="proposed", to_state="submitted", actor=merchant_user
    ).exists()


def test_file_claim_for_undetected_session_as_draft_then_submit(incident, merchant, merchant_user):
    claim = services.file_claim(
        merchant=merchant,
        incident=incident,
        by=merchant_user,
        claimed_amount="350.5",
        statement="Session LS-77 froze at 20:05.",
        session_reference="LS-77",
        documents=[png_upload()],
    )
    assert claim.state == S.DRAFT and claim.origin == "merchant"
    assert claim.claimed_amount == Decimal("350.50") and claim.computed_amount == Decimal("0.00")
    assert claim.documents.get().kind == "png"
    claim = services.submit(claim=claim, by=merchant_user)
    assert claim.state == S.SUBMITTED


def test_review_info_answer_cycle_pauses_decision_clock(flow, proposed, merchant_user, support_user):
    claim = flow.under_review(proposed)
    assert claim.state == S.UNDER_REVIEW and claim.assignee == support_user
    assert claim.first_responded_at is not None and claim.due_at == claim.decision_due_at
    due_before = claim.decision_due_at
    claim = services.request_info(
        claim=claim, by=support_user, reason="missing_information", message="Please send the order export."
    )
    assert claim.state == S.INFO_REQUESTED and claim.due_at is None
    assert claim.expires_at == claim.info_requested_at + timedelta(days=14)
    assert ClaimNotification.objects.filter(recipient=merchant_user, subject__contains="more information").exists()
    # The merchant takes five hours to answer: the decision deadline moves by those five hours.
    Claim.objects.filter(pk=claim.pk).update(info_requested_at=claim.info_requested_at - timedelta(hours=5))
    claim = services.answer(claim=claim, by=merchant_user, message="Attached.", documents=[pdf_upload()])
    assert claim.state == S.UNDER_REVIEW and claim.expires_at is None
    paused = claim.decision_due_at - due_before
    assert timedelta(hours=5) <= paused < timedelta(hours=5, minutes=1)
    assert claim.due_at == claim.decision_due_at
    assert claim.documents.count() == 1
    assert claim.merchant_wait == paused  # the same pause leaves the wait out of the time to decision


def test_merchant_wait_adds_up_answers_until_the_first_decision(
    flow, proposed, merchant_user, support_user, support_user_2
):
    def ask_and_answer(claim, staff, hours):
        claim = services.request_info(
            claim=claim, by=staff, reason="missing_information", message="Send the order export."
        )
        Claim.objects.filter(pk=claim.pk).update(info_requested_at=claim.info_requested_at - timedelta(hours=hours))
        return services.answer(claim=claim, by=merchant_user, message="Attached.")

    claim = flow.under_review(proposed)
    assert claim.merchant_wait == timedelta(0)
    claim = ask_and_answer(claim, support_user, 5)
    claim = ask_and_answer(claim, support_user, 2)
    assert timedelta(hours=7) <= claim.merchant_wait < timedelta(hours=7, minutes=1)
    first_round = claim.merchant_wait
    claim = services.partially_approve(
        claim=claim, by=support_user, amount="800.00", reason="baseline_adjusted", message="Adjusted."
    )
    claim = services.dispute(
        claim=claim, by=merchant_user, reason="amount_disagreement", statement="Sales were higher."
    )
    claim = services.start_review(claim=claim, by=support_user_2)
    due_before = claim.decision_due_at
    claim = ask_and_answer(claim, support_user_2, 3)
    # The second round's deadline still pauses; the wait after the first decision is not added.
    assert claim.decision_due_at - due_before >= timedelta(hours=3)
    assert Claim.objects.get(pk=claim.pk).merchant_wait == first_round


def test_approve_records_reason_message_amount(flow, proposed, support_user):
    claim = flow.approved(proposed)
    assert claim.state == S.APPROVED and claim.approved_amount == Decimal("1200.00")
    event = last_event(claim)
    assert (event.reason_code, event.message, event.amount, event.computed_amount, event.currency) == (
        "loss_confirmed",
        "Matches the metrics.",
        Decimal("1200.00"),
        Decimal("1200.00"),
        "CNY",
    )
    assert claim.decided_by == claim.first_decided_by == support_user and claim.due_at is None


def test_partial_approval_within_maximum(flow, proposed):
    claim = flow.partially_approved(proposed, amount="800.004")
    assert claim.state == S.PARTIALLY_APPROVED and claim.approved_amount == Decimal("800.00")


def test_partial_approval_above_maximum_needs_second_staff(flow, proposed, support_user, support_user_2):
    claim = flow.under_review(proposed)
    claim = services.partially_approve(
        claim=claim, by=support_user, amount="1500", reason="partial_evidence", message="Receipts show more."
    )
    assert claim.state == S.UNDER_REVIEW and claim.pending_amount == Decimal("1500.00")
    assert last_event(claim).kind == "approval_requested"
    with pytest.raises(NotPermitted):
        services.confirm_approval(claim=claim, by=support_user)  # not by the same person
    claim = services.confirm_approval(claim=claim, by=support_user_2)
    # More than the merchant asked for is no partial approval.
    assert claim.state == S.APPROVED and claim.approved_amount == Decimal("1500.00")
    assert claim.decided_by == support_user and claim.second_approver == support_user_2


def test_reject_then_accept_refused(flow, proposed, merchant_user):
    claim = flow.rejected(proposed)
    assert claim.state == S.REJECTED and claim.approved_amount == Decimal("0.00")
    with pytest.raises(StateConflict):
        services.accept(claim=claim, by=merchant_user)


def test_accept_and_settle_by_finance(flow, proposed, finance_user, support_user):
    claim = flow.accepted(proposed)
    assert claim.state == S.ACCEPTED
    with pytest.raises(NotPermitted):
        services.settle(claim=claim, by=support_user, payment_reference="PAY-1")
    claim = services.settle(claim=claim, by=finance_user, payment_reference="PAY-1")
    assert claim.state == S.SETTLED and claim.payment_reference == "PAY-1"
    assert last_event(claim).amount == Decimal("1200.00")


def test_dispute_goes_to_another_staff_and_second_decision_is_final(
    flow, proposed, merchant_user, support_user, support_user_2
):
    claim = flow.disputed(proposed)
    assert claim.state == S.DISPUTED and claim.dispute_count == 1 and claim.assignee is None
    assert claim.due_at == claim.first_response_due_at
    with pytest.raises(NotPermitted):
        services.start_review(claim=claim, by=support_user)  # the first decider
    claim = services.start_review(claim=claim, by=support_user_2)
    with pytest.raises(NotPermitted):
        services.approve(claim=claim, by=support_user, reason="loss_confirmed", message="Fine.")
    claim = services.approve(
        claim=claim, by=support_user_2, reason="loss_confirmed", message="Full amount after review."
    )
    assert claim.state == S.APPROVED and claim.approved_amount == Decimal("1200.00")
    assert claim.first_decided_by == support_user and claim.decided_by == support_user_2
    with pytest.raises(StateConflict):
        services.dispute(claim=claim, by=merchant_user, reason="amount_disagreement", statement="Again.")
    assert services.accept(claim=claim, by=merchant_user).state == S.ACCEPTED


def test_withdraw_from_every_open_state(flow, incident, merchant, merchant_user, make_user):
    for i, step in enumerate(["proposed", "submitted", "under_review", "info_requested"]):
        inc = IncidentFactory(external_id=f"W-{i}")
        claim = services.propose(incident=inc, merchant=merchant, amount="10", currency="CNY")
        if step != "proposed":
            claim = getattr(flow, step)(claim)
        claim = services.withdraw(claim=claim, by=merchant_user, message="Not needed.")
        assert claim.state == S.WITHDRAWN
        assert last_event(claim).reason_code == "merchant_request"


def test_expire_proposal_and_info_request(flow, proposed, incident, merchant):
    assert services.expire(claim=proposed).state == S.PROPOSED  # not due yet: left as it is
    assert services.expire(claim=proposed, force=True).state == S.EXPIRED  # staff/demo: on purpose
    other = services.propose(incident=IncidentFactory(external_id="E-2"), merchant=merchant, amount="5", currency="CNY")
    other = flow.info_requested(other)
    Claim.objects.filter(pk=other.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.expire(claim=other).state == S.EXPIRED
    assert last_event(other).actor is None and last_event(other).actor_role == "system"
    with pytest.raises(StateConflict):
        services.expire(
            claim=flow.submitted(
                services.propose(
                    incident=IncidentFactory(external_id="E-3"), merchant=merchant, amount="5", currency="CNY"
                )
            ),
            force=True,
        )


def test_bulk_approval_below_threshold_one_event_per_claim(
    incident, merchant, merchant_user, other_merchant, support_user, make_user
):
    third = type(merchant).objects.create(code="glow", name="Glow", currency="CNY")
    small = services.propose(incident=incident, merchant=merchant, amount="100", currency="CNY")
    small2 = services.propose(incident=incident, merchant=other_merchant, amount="499.99", currency="CNY")
    big = services.propose(incident=incident, merchant=third, amount="500", currency="CNY")
    approved = services.bulk_approve(incident=incident, by=support_user, threshold="500")
    assert {c.pk for c in approved} == {small.pk, small2.pk}
    for claim in approved:
        assert claim.state == S.APPROVED and claim.approved_amount == claim.computed_amount
        assert claim.submitted_at is None  # a proposal approved in bulk was never submitted
        assert ClaimEvent.objects.filter(claim=claim, kind="transition").count() == 1
        assert last_event(claim).action == "approve_proposal" and "Bulk" in last_event(claim).message
    # The merchant hears "approved" (not a generic "updated").
    assert ClaimNotification.objects.filter(
        recipient=merchant_user, claim=small, subject=f"Claim #{small.pk} approved"
    ).exists()
    big.refresh_from_db(fields=["computed_amount"])
    assert Claim.objects.get(pk=big.pk).state == S.PROPOSED


# --- Refusals --------------------------------------------------------------------------------


def test_wrong_role_refused(flow, proposed, support_user, merchant_user, finance_user):
    with pytest.raises(NotPermitted):
        services.submit(claim=proposed, by=support_user)  # staff cannot submit for the merchant
    claim = flow.submitted(proposed)
    with pytest.raises(NotPermitted):
        services.start_review(claim=claim, by=merchant_user)  # merchants cannot review
    with pytest.raises(NotPermitted):
        services.start_review(claim=claim, by=finance_user)  # finance does not adjudicate
    claim = services.start_review(claim=claim, by=flow.s)
    with pytest.raises(NotPermitted):
        services.approve(claim=claim, by=merchant_user, reason="loss_confirmed", message="self-approval")


def test_wrong_owner_refused(proposed, other_merchant_user, flow):
    with pytest.raises(NotPermitted):
        services.submit(claim=proposed, by=other_merchant_user)
    claim = flow.approved(proposed)
    with pytest.raises(NotPermitted):
        services.accept(claim=claim, by=other_merchant_user)
    with pytest.raises(NotPermitted):
        services.dispute(claim=claim, by=other_merchant_user, reason="amount_disagreement", statement="Not mine.")


def test_staff_member_of_the_merchant_refused(proposed, merchant, make_user, flow):
    insider = make_user("ivy-inside", "support", merchants=[merchant])
    claim = flow.submitted(proposed)
    with pytest.raises(NotPermitted):
        services.start_review(claim=claim, by=insider)
    assert services.bulk_approve(incident=proposed.incident, by=insider, threshold="5000") == []


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("proposed", "start_review"),
        ("proposed", "accept"),
        ("submitted", "approve"),
        ("submitted", "submit"),
        ("under_review", "answer"),
        ("under_review", "accept"),
        ("info_requested", "approve"),
        ("approved", "withdraw"),
        ("approved", "approve"),
        ("rejected", "accept"),
        ("accepted", "dispute"),
        ("accepted", "settle_wrong"),
    ],
)
def test_wrong_state_refused(flow, proposed, merchant_user, support_user, finance_user, state, action):
    claim = proposed if state == "proposed" else getattr(flow, state)(proposed)
    before = Claim.objects.get(pk=claim.pk).state
    calls = {
        "start_review": lambda: services.start_review(claim=claim, by=support_user),
        "accept": lambda: services.accept(claim=claim, by=merchant_user),
        "approve": lambda: services.approve(claim=claim, by=support_user, reason="loss_confirmed", message="ok"),
        "submit": lambda: services.submit(claim=claim, by=merchant_user),
        "answer": lambda: services.answer(claim=claim, by=merchant_user, message="here"),
        "withdraw": lambda: services.withdraw(claim=claim, by=merchant_user),
        "dispute": lambda: services.dispute(
            claim=claim, by=merchant_user, reason="amount_disagreement", statement="no"
        ),
        "settle_wrong": lambda: services.withdraw(claim=claim, by=merchant_user),
    }
    with pytest.raises(StateConflict):
        calls[action]()
    assert Claim.objects.get(pk=claim.pk).state == before


def test_settle_only_from_accepted(flow, proposed, finance_user):
    claim = flow.approved(proposed)
    with pytest.raises(StateConflict):
        services.settle(claim=claim, by=finance_user, payment_reference="PAY-2")


def test_outside_filing_window_refused(merchant, merchant_user):
    late = IncidentFactory(external_id="OLD", resolved_ago=timedelta(days=31))
    with pytest.raises(InvalidInput) as exc:
        services.file_claim(
            merchant=merchant,
            incident=late,
            by=merchant_user,
            claimed_amount="10",
            statement="x",
            documents=[png_upload()],
        )
    assert exc.value.code == "outside_window"
    proposal = services.propose(incident=late, merchant=merchant, amount="10", currency="CNY")
    with pytest.raises(InvalidInput):
        services.submit(claim=proposal, by=merchant_user)
    assert Claim.objects.get(pk=proposal.pk).state == S.PROPOSED


def test_window_default_is_30_days_and_configurable(merchant, merchant_user, settings):
    inc = IncidentFactory(external_id="EDGE", resolved_ago=timedelta(days=29, hours=23))
    claim = services.propose(incident=inc, merchant=merchant, amount="10", currency="CNY")
    assert services.submit(claim=claim, by=merchant_user).state == S.SUBMITTED
    settings.CLAIMS_FILING_WINDOW_DAYS = 10
    inc2 = IncidentFactory(external_id="EDGE2", resolved_ago=timedelta(days=11))
    with pytest.raises(InvalidInput):
        services.submit(
            claim=services.propose(incident=inc2, merchant=merchant, amount="1", currency="CNY"), by=merchant_user
        )


def test_one_claim_per_merchant_per_incident(proposed, merchant, merchant_user, incident):
    with pytest.raises(StateConflict) as exc:
        services.file_claim(
            merchant=merchant,
            incident=incident,
            by=merchant_user,
            claimed_amount="10",
            statement="again",
            documents=[png_upload()],
        )
    assert exc.value.code == "duplicate_claim"
    assert Claim.objects.filter(merchant=merchant, incident=incident).count() == 1


def test_filed_claim_needs_evidence_amount_and_statement(incident, merchant, merchant_user):
    base = {"merchant": merchant, "incident": incident, "by": merchant_user, "statement": "froze"}
    with pytest.raises(InvalidInput):
        services.file_claim(**base, claimed_amount="10")
    with pytest.raises(InvalidInput):
        services.file_claim(**base, claimed_amount="-1", documents=[png_upload()])
    with pytest.raises(InvalidInput):
        services.file_claim(**{**base, "statement": " "}, claimed_amount="10", documents=[png_upload()])
    assert not Claim.objects.exists()


def test_decisions_require_reason_and_message(flow, proposed, support_user):
    claim = flow.under_review(proposed)
    with pytest.raises(InvalidInput):
        services.approve(claim=claim, by=support_user, reason="", message="msg")
    with pytest.raises(InvalidInput):
        services.reject(claim=claim, by=support_user, reason="not_platform_caused", message="")
    with pytest.raises(InvalidInput):
        services.partially_approve(claim=claim, by=support_user, amount="abc", reason="baseline_adjusted", message="x")
    with pytest.raises(InvalidInput):
        services.reject(claim=claim, by=support_user, reason="no_such_code", message="x")
    assert Claim.objects.get(pk=claim.pk).state == S.UNDER_REVIEW


def test_state_field_is_protected(proposed):
    with pytest.raises(AttributeError):
        proposed.state = S.APPROVED


# --- Audit trail -----------------------------------------------------------------------------


def test_audit_trail_is_append_only_and_complete(flow, proposed):
    claim = flow.accepted(proposed)
    actions = list(ClaimEvent.objects.filter(claim=claim).values_list("action", "from_state", "to_state"))
    assert actions == [
        ("propose", "", "proposed"),
        ("submit", "proposed", "submitted"),
        ("start_review", "submitted", "under_review"),
        ("approve", "under_review", "approved"),
        ("accept", "approved", "accepted"),
    ]
    event = ClaimEvent.objects.filter(claim=claim).first()
    event.message = "tampered"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(ValidationError):
        ClaimEvent.objects.filter(claim=claim).update(note="x")
    with pytest.raises(ValidationError):
        ClaimEvent.objects.filter(claim=claim).delete()


def test_now_is_timezone_aware(proposed):
    assert timezone.is_aware(proposed.created_at)


def test_first_decider_is_offered_no_step_on_the_disputed_claim(flow, proposed, support_user, support_user_2):
    """The buttons match the service rule: after a dispute the first decider cannot ask, decide or confirm."""
    from claims import permissions

    claim = services.start_review(claim=flow.disputed(proposed), by=support_user_2)
    assert permissions.allowed_actions(support_user, claim) == []
    offered = set(permissions.allowed_actions(support_user_2, claim))
    assert offered == {"approve", "partially_approve", "reject", "request_info"}
    claim = services.partially_approve(
        claim=claim, by=support_user_2, amount="5000", reason="partial_evidence", message="Receipts."
    )
    assert permissions.allowed_actions(support_user, claim) == []  # not even the second approval
    with pytest.raises(NotPermitted):
        services.request_info(claim=claim, by=support_user, reason="missing_information", message="More?")
    with pytest.raises(NotPermitted):
        services.confirm_approval(claim=claim, by=support_user)
