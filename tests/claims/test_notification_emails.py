"""Notifications that help: e-mails in the recipient's language with the amount, a link to the
claim and the next step; opening a notification marks it read; the unread count in the nav."""

import email
import email.policy
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Preference, language_of
from claims import services
from claims.models import Claim, ClaimNotification
from merchants.models import Merchant

pytestmark = pytest.mark.django_db


def test_language_switch_is_remembered_for_emails(client, merchant_user):
    assert language_of(merchant_user) == "en"
    client.force_login(merchant_user)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/portal/"})
    assert language_of(merchant_user) == "zh-hans"
    client.post(reverse("set_language"), {"language": "xx", "next": "/portal/"})
    assert language_of(merchant_user) == "zh-hans"


def test_emails_in_each_recipients_language(
    make_user, merchant, merchant_user, incident, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://claims.example.com"
    chinese = make_user("li-merchant", "merchant", merchants=[merchant])
    Preference.objects.create(user=chinese, language="zh-hans")
    with django_capture_on_commit_callbacks(execute=True):
        claim = services.propose(incident=incident, merchant=merchant, amount=Decimal("12345.60"), currency="CNY")
    by_recipient = {m.to[0]: m for m in mail.outbox}
    english, zh = by_recipient[merchant_user.email], by_recipient[chinese.email]
    link = f"https://claims.example.com/portal/claims/{claim.pk}/"
    assert english.subject == f"A compensation proposal is waiting: claim #{claim.pk}"
    assert "12,345.60 CNY" in english.body and link in english.body
    assert "What to do next: Review the proposal and submit it before" in english.body
    assert "理赔" in zh.subject and "12,345.60 CNY" in zh.body and link in zh.body
    assert "下一步" in zh.body and "What to do next" not in zh.body
    # Chinese labels end in a full-width colon; the answer-by date in each language's format.
    assert "下一步：" in zh.body and "下一步:" not in zh.body
    expires = timezone.localtime(claim.expires_at)
    assert f"{expires.day} {expires:%b %Y %H:%M}" in english.body
    assert f"{expires.year}年{expires.month}月{expires.day}日 {expires:%H:%M}" in zh.body


def test_staff_email_links_the_console(
    proposed, merchant_user, support_user, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://claims.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(claim=proposed, by=merchant_user)
    (message,) = [m for m in mail.outbox if m.to == [support_user.email]]
    assert f"https://claims.example.com/console/claims/{proposed.pk}/" in message.body
    assert "Take the claim into review before" in message.body


def test_opening_a_notification_marks_it_read(client, proposed, flow, merchant_user):
    flow.approved(proposed)
    unread = ClaimNotification.objects.filter(recipient=merchant_user, read_at__isnull=True)
    assert unread.count() >= 2
    client.force_login(merchant_user)
    page = client.get(reverse("portal:home")).content.decode()
    assert f'id="unread-count">{unread.count()}<' in page
    listing = client.get(reverse("portal:notifications")).content.decode()
    first = unread.first()
    assert reverse("portal:notification", args=[first.pk]) in listing and "badge new" in listing
    response = client.get(reverse("portal:notification", args=[first.pk]))
    assert response.status_code == 302 and response.url == reverse("portal:claim", args=[proposed.pk])
    first.refresh_from_db()
    assert first.read_at is not None
    assert unread.count() >= 1  # only the opened one
    page = client.get(reverse("portal:home")).content.decode()
    assert f'id="unread-count">{unread.count()}<' in page


def test_a_notification_of_someone_else_is_not_found(client, proposed, merchant_user, other_merchant_user):
    note = ClaimNotification.objects.filter(recipient=merchant_user).first()
    client.force_login(other_merchant_user)
    assert client.get(reverse("portal:notification", args=[note.pk])).status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_paid_notice_labels_the_payment_reference(
    make_user, merchant, merchant_user, proposed, flow, django_capture_on_commit_callbacks, client
):
    chinese = make_user("li-merchant", "merchant", merchants=[merchant])
    Preference.objects.create(user=chinese, language="zh-hans")
    finance = make_user("fin-finance", "finance")
    claim = flow.accepted(proposed)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.settle(claim=claim, by=finance, payment_reference="ICBC-20261201-0001")
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert "Payment reference: ICBC-20261201-0001" in by_recipient[merchant_user.email].body
    assert "付款参考号：ICBC-20261201-0001" in by_recipient[chinese.email].body
    client.force_login(merchant_user)
    page = client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    assert "Payment reference: ICBC-20261201-0001" in page.split('id="timeline"', 1)[1]
    note = ClaimNotification.objects.filter(recipient=merchant_user, claim=claim).latest("pk")
    inbox = client.get(reverse("portal:notifications")).content.decode()
    assert note.subject in inbox and "Payment reference: ICBC-20261201-0001" in inbox


def test_staff_submitted_email_subject_reads_without_a_leading_space(
    proposed, merchant_user, support_user, django_capture_on_commit_callbacks
):
    Merchant.objects.filter(pk=proposed.merchant_id).update(name="星河美妆 Galaxy Beauty Flagship Store")
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(claim=Claim.objects.get(pk=proposed.pk), by=merchant_user)
    (message,) = [m for m in mail.outbox if m.to == [support_user.email]]
    wire = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)
    assert wire["Subject"] == f"Claim #{proposed.pk} submitted by 星河美妆 Galaxy Beauty Flagship Store"
