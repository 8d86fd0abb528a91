"""Sentences the system writes into a history are stored as a code and parameters and written in
the reader's language when shown: a claim's timeline, a batch's history, a notification, an e-mail."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import Preference
from claims import services as workflow
from claims.models import ClaimEvent, ClaimNotification
from settlements.models import SettlementEvent
from settlements.services import settlements as st
from tests.settlements.test_failed_payment import exported_batch, payment_csv

pytestmark = pytest.mark.django_db


def fail_payment(claims, finance, claim, amount, capture):
    batch = exported_batch(finance)
    with capture(execute=True):
        st.import_payments(
            batch=batch,
            by=finance,
            data=payment_csv([f"{claim.pk},{amount},CNY,failed,,invalid account"]),
            filename="bank.csv",
        )
    return batch


def test_failed_payment_reads_in_each_readers_language(claims, finance, django_capture_on_commit_callbacks):
    claim = claims.accepted("1590.68")
    merchant_user = claims.user_of(claim.merchant)
    Preference.objects.create(user=merchant_user, language="zh-hans")
    mail.outbox.clear()
    with translation.override("en"):  # the finance clerk imports in English
        batch = fail_payment(claims, finance, claim, "1590.68", django_capture_on_commit_callbacks)
    event = ClaimEvent.objects.get(claim=claim, kind=ClaimEvent.Kind.PAYMENT_FAILED)
    assert event.note == "" and event.text_code == "payment_failed"  # no prose stored
    notification = ClaimNotification.objects.get(claim=claim, event=event)
    assert notification.body == ""
    with translation.override("zh-hans"):
        assert event.message == f"invalid account（结算批次 {batch.reference}）"
        assert "1,590.68 CNY" in notification.text and "付款失败" in notification.text
        assert "收款信息" in notification.text
    with translation.override("en"):
        assert event.message == f"invalid account (settlement batch {batch.reference})"
        assert "The payment of 1,590.68 CNY" in notification.text and "Payout details" in notification.text
    # The e-mail goes out in the merchant's language though the clerk worked in English.
    (email,) = [m for m in mail.outbox if m.to == [merchant_user.email]]
    assert "付款失败：invalid account" in email.body and "The payment of" not in email.body
    # The batch's history: the payment line in the reader's language.
    payment = SettlementEvent.objects.get(batch=batch, action="payment")
    assert payment.note == "" and payment.text_params["file"] == "bank.csv"
    with translation.override("zh-hans"):
        assert payment.message == "付款失败：invalid account（bank.csv 第 2 行）；该理赔将转入下一批次"
    with translation.override("en"):
        assert payment.message == "Failed: invalid account (bank.csv line 2); the claim goes to the next batch"


def test_pages_show_the_stored_event_in_the_readers_language(claims, finance, django_capture_on_commit_callbacks):
    claim = claims.accepted("1590.68")
    fail_payment(claims, finance, claim, "1590.68", django_capture_on_commit_callbacks)
    client = Client()
    client.force_login(claims.user_of(claim.merchant))
    client.cookies["django_language"] = "zh-hans"
    detail = client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    assert "结算批次" in detail and "settlement batch" not in detail
    inbox = client.get(reverse("portal:notifications")).content.decode()
    assert "付款失败：invalid account" in inbox and "The payment of" not in inbox
    client.cookies["django_language"] = "en"
    inbox = client.get(reverse("portal:notifications")).content.decode()
    assert "The payment of 1,590.68 CNY" in inbox


def test_reminder_follows_the_reader(claims):
    claim = claims.proposed("100.00")
    assert workflow.record_reminder(claim=claim)
    event = ClaimEvent.objects.get(claim=claim, kind=ClaimEvent.Kind.REMINDER)
    assert event.note == "" and event.text_params["id"] == claim.pk
    with translation.override("zh-hans"):
        assert event.message.startswith(f"理赔 #{claim.pk} 如不处理，将于 ") and "年" in event.message
    with translation.override("en"):
        assert event.message.startswith(f"Claim #{claim.pk} expires on ") and "年" not in event.message


def test_rows_from_before_the_codes_keep_their_stored_text(claims):
    claim = claims.accepted("10.00")
    old = ClaimEvent.objects.create(
        claim=claim, kind=ClaimEvent.Kind.NOTE, actor_role="system", note="Estimate recomputed: 1 → 2 CNY."
    )
    with translation.override("zh-hans"):
        assert old.message == "Estimate recomputed: 1 → 2 CNY."


def test_a_persons_words_are_kept_as_written(claims):
    claim = claims.accepted("10.00")
    event = claim.events.filter(action="accept").get()
    with translation.override("zh-hans"):
        assert event.message == event.note


def test_bulk_approval_without_a_message_reads_in_the_merchants_language(claims):
    claim = claims.proposed("100.00")
    (approved,) = workflow.bulk_approve(incident=claim.incident, by=claims.support, threshold="500")
    event = approved.events.get(action="approve_proposal")
    assert event.note == "" and approved.decision_message == ""
    notification = ClaimNotification.objects.get(event=event)
    with translation.override("zh-hans"):
        assert event.message == "批量批准金额低于 500.00 的系统建议理赔。" == notification.text
    with translation.override("en"):
        assert event.message == "Bulk approval of proposed claims below 500.00."


def test_a_failure_without_the_banks_reason_is_worded_for_each_reader(
    claims, finance, django_capture_on_commit_callbacks
):
    claim = claims.accepted("10.00")
    batch = exported_batch(finance)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        st.import_payments(batch=batch, by=finance, data=payment_csv([f"{claim.pk},10.00,CNY,failed,,"]))
    item = batch.items.get(claim=claim)
    assert item.failure_reason == ""  # nothing in the importer's language is stored
    event = ClaimEvent.objects.get(claim=claim, kind=ClaimEvent.Kind.PAYMENT_FAILED)
    payment = SettlementEvent.objects.get(batch=batch, action="payment")
    with translation.override("zh-hans"):
        assert event.message == f"未说明原因（结算批次 {batch.reference}）"
        assert payment.message.startswith("付款失败：未说明原因（")
    with translation.override("en"):
        assert event.message == f"no reason given (settlement batch {batch.reference})"
    client = Client()
    client.force_login(claims.user_of(claim.merchant))
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    assert "银行返回：未说明原因" in page
