"""A failed payment reaches the merchant: notification, timeline entry, payment status on the
claim page; a batch where every payment failed is "Failed", not "Partially paid"."""

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import ClaimEvent, ClaimNotification, ClaimState
from settlements.models import BatchState
from settlements.services import settlements as st

pytestmark = pytest.mark.django_db


def payment_csv(rows):
    header = "claim_id,amount,currency,status,payment_reference,failure_reason"
    return ("\n".join([header, *rows]) + "\n").encode()


def exported_batch(finance):
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    return st.mark_exported(batch=batch, by=finance, sha256="a" * 64)


def test_all_failed_batch_is_failed_and_merchant_is_told(claims, finance):
    claim = claims.accepted("1590.68")
    batch = exported_batch(finance)
    res = st.import_payments(
        batch=batch, by=finance, data=payment_csv([f"{claim.pk},1590.68,CNY,failed,,invalid account"])
    )
    assert res.ok and res.batch_state == BatchState.FAILED
    batch.refresh_from_db()
    assert batch.get_state_display() == "Failed"
    claim.refresh_from_db()
    assert claim.state == ClaimState.ACCEPTED
    event = ClaimEvent.objects.get(claim=claim, kind=ClaimEvent.Kind.PAYMENT_FAILED)
    assert event.actor == finance and event.amount == claim.approved_amount
    assert "invalid account" in event.message and batch.reference in event.message
    note = ClaimNotification.objects.get(claim=claim, event=event)
    assert note.recipient == claims.user_of(claim.merchant)
    assert note.localized_subject == f"Claim #{claim.pk}: the payment failed"
    assert "invalid account" in note.text and "payout details" in note.text


def test_mixed_outcome_is_partially_paid(claims, finance):
    a = claims.accepted("10.00")
    b = claims.accepted("20.00", merchant=claims.merchant("silk"))
    batch = exported_batch(finance)
    res = st.import_payments(
        batch=batch, by=finance, data=payment_csv([f"{a.pk},10.00,CNY,paid,B-1,", f"{b.pk},20.00,CNY,failed,,closed"])
    )
    assert res.batch_state == BatchState.PARTIALLY_PAID
    assert not ClaimEvent.objects.filter(claim=a, kind=ClaimEvent.Kind.PAYMENT_FAILED).exists()


def _claim_page(claims, claim):
    client = Client()
    client.force_login(claims.user_of(claim.merchant))
    return client.get(reverse("portal:claim", args=[claim.pk])).content.decode()


def test_claim_page_follows_the_payment(claims, finance):
    claim = claims.accepted("1590.68")
    html = _claim_page(claims, claim)
    assert "Waiting for the next settlement batch" in html
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    assert f"In settlement batch {batch.reference}" in _claim_page(claims, claim)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="b" * 64)
    assert "Sent for payment on" in _claim_page(claims, claim)
    st.import_payments(batch=batch, by=finance, data=payment_csv([f"{claim.pk},1590.68,CNY,failed,,invalid account"]))
    html = _claim_page(claims, claim)
    assert 'id="payment-failed"' in html and "invalid account" in html
    assert "Nothing to do right now" not in html
    assert "Payment failed" in html  # the timeline entry and the status
    # The next batch pays it: the status says paid with its reference.
    retry = exported_batch(finance)
    st.import_payments(batch=retry, by=finance, data=payment_csv([f"{claim.pk},1590.68,CNY,paid,BANK-77,"]))
    html = _claim_page(claims, claim)
    assert 'class="payment-paid"' in html and "BANK-77" in html and 'id="payment-failed"' not in html
