"""The portal asks for payout details before the first payment, shows a failed payment on the
home page and the claims list (not as a plain "Accepted"), acknowledges corrected details on the
failed claim, and tells a closed claim's reader that it is closed."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims import services as workflow
from merchants import services as merchant_services
from merchants.models import Membership, Merchant
from settlements.services import settlements as st
from tests.factories import Claims, UserFactory
from tests.layout import LANGUAGES, WIDTHS, assert_readable, open_as
from tests.settlements.test_failed_payment import payment_csv

pytestmark = pytest.mark.django_db

ADD = "Add your payout details so we can pay you."
ASK = "Ask your merchant administrator to add them."


def fail_payment(*failed):
    finance = User.objects.filter(username="fin-finance").first() or UserFactory(
        username="fin-finance", roles=["finance"]
    )
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    batch = st.mark_exported(batch=batch, by=finance, sha256="e" * 64)
    st.import_payments(
        batch=batch, by=finance, data=payment_csv([f"{c.pk},1200.00,CNY,failed,,invalid account" for c in failed])
    )


def no_payout_details(merchant):
    """Test merchants come with payout details (a batch cannot be locked without them)."""
    Merchant.objects.filter(pk=merchant.pk).update(payout_account_name="", payout_bank="", payout_account_number="")


def client_of(user, lang="en"):
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = lang
    return client


def test_home_and_decided_claim_ask_for_missing_payout_details():
    claims = Claims()
    claim = claims.approved()
    no_payout_details(claim.merchant)
    user = claims.user_of(claim.merchant)
    member = client_of(user)
    # A member who is not an administrator is told whom to ask, without a link.
    for url in (reverse("portal:home"), reverse("portal:claim", args=[claim.pk])):
        html = member.get(url).content.decode()
        assert ASK in html and ADD not in html and 'class="payout-link"' not in html
    Membership.objects.filter(user=user).update(is_admin=True)
    for url in (reverse("portal:home"), reverse("portal:claim", args=[claim.pk])):
        html = member.get(url).content.decode()
        assert ADD in html and f'href="{reverse("portal:payout")}" class="payout-link"' in html
    assert (
        "请添加收款信息，以便我们向您付款。" in client_of(user, "zh-hans").get(reverse("portal:home")).content.decode()
    )
    merchant_services.update_payout_details(
        merchant=claim.merchant, by=user, account_name="Tea House", bank="ICBC", account_number="62220000111122"
    )
    for url in (reverse("portal:home"), reverse("portal:claim", args=[claim.pk])):
        assert ADD not in member.get(url).content.decode()


def test_a_failed_payment_shows_on_home_list_and_claim_until_details_change(django_assert_max_num_queries):
    claims = Claims()
    claim = claims.accepted()
    other = claims.accepted(merchant=claim.merchant)  # accepted, not paid yet: not waiting for the merchant
    user = claims.user_of(claim.merchant)
    Membership.objects.filter(user=user).update(is_admin=True)
    merchant_services.update_payout_details(
        merchant=claim.merchant, by=user, account_name="Tea House", bank="ICBC", account_number="00000000"
    )
    client = client_of(user)
    home = client.get(reverse("portal:home")).content.decode()
    assert 'id="action-needed"' not in home and "payment-failed" not in home
    fail_payment(claim)
    home = client.get(reverse("portal:home")).content.decode()
    waiting = home.split('id="action-needed"', 1)[1].split("</ul>", 1)[0]
    assert f"#{claim.pk} " in waiting and f"#{other.pk} " not in waiting
    assert '<span class="badge rejected payment-failed">Payment failed</span>' in waiting
    listing = client.get(reverse("portal:claims")).content.decode()
    rows = {row.split('">#', 1)[1].split("<", 1)[0]: row for row in listing.split("<tr>")[2:]}
    assert "Payment failed" in rows[str(claim.pk)] and "Payment failed" not in rows[str(other.pk)]
    assert "Accepted" in rows[str(other.pk)]
    page = client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "Payment failed" in heading and "Check your payout details" in page
    assert "Payout details updated on" not in page
    merchant_services.update_payout_details(
        merchant=claim.merchant, by=user, account_name="Tea House", bank="ICBC", account_number="62220000111122"
    )
    page = client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    assert "Payout details updated on" in page and "retried in the next settlement batch" in page
    assert "Check your payout details" not in page
    zh = client_of(user, "zh-hans").get(reverse("portal:claim", args=[claim.pk])).content.decode()
    assert "收款信息已于" in zh and "更新。下一个结算批次将重新付款。" in zh
    # A dozen more claims, failed and not, add no query to the lists.
    counts = {}
    for name in ("portal:home", "portal:claims"):
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse(name))
        counts[name] = len(queries)
    more = [claims.accepted(merchant=claim.merchant) for _ in range(6)]
    fail_payment(*more)
    for _ in range(6):
        claims.accepted(merchant=claim.merchant)
    for name in ("portal:home", "portal:claims"):
        with django_assert_max_num_queries(counts[name]):
            html = client.get(reverse(name)).content.decode()
        assert html.count("payment-failed") >= 6


def test_a_closed_claim_says_it_is_closed():
    claims = Claims()
    claim = claims.proposed()
    user = claims.user_of(claim.merchant)
    workflow.withdraw(claim=claim, by=user)
    html = client_of(user).get(reverse("portal:claim", args=[claim.pk])).content.decode()
    assert "This claim is closed; nothing more to do." in html and "Nothing to do right now" not in html
    zh = client_of(user, "zh-hans").get(reverse("portal:claim", args=[claim.pk])).content.decode()
    assert "该理赔已结束，无需再操作。" in zh


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_payout_prompts_in_both_languages_and_widths(browser, live_server, screenshot):
    claims = Claims()
    failed = claims.accepted()
    user = claims.user_of(failed.merchant)
    Membership.objects.filter(user=user).update(is_admin=True)
    fail_payment(failed)
    no_payout_details(failed.merchant)  # paid to an account that failed, and none on file now
    approved = claims.approved(merchant=failed.merchant)
    words = {
        "en": ("Add your payout details", "Payment failed", "We have no payout details for you yet"),
        "zh-hans": ("请添加收款信息", "付款失败", "我们尚无您的收款信息"),
    }
    for lang in LANGUAGES:
        for width in WIDTHS:
            context, page = open_as(browser, live_server, user.username, width=width, lang=lang)
            page.goto(f"{live_server.url}/portal/")
            assert words[lang][0] in page.locator(".payout-missing").inner_text()
            assert words[lang][1] in page.locator("#action-needed").inner_text()
            assert_readable(page)
            screenshot(page, f"payout-prompt-home-{lang}-{width}")
            page.goto(f"{live_server.url}/portal/claims/{approved.pk}/")
            assert words[lang][0] in page.locator("#actions").inner_text()
            assert_readable(page)
            screenshot(page, f"payout-prompt-claim-{lang}-{width}")
            # Accepting asks first, and the question says the payout details are missing.
            page.locator("#accept-form button[type=submit]").click()
            dialog = page.locator("#confirm-dialog")
            assert words[lang][2] in dialog.inner_text()
            screenshot(page, f"payout-prompt-accept-dialog-{lang}-{width}")
            page.keyboard.press("Escape")
            page.goto(f"{live_server.url}/portal/claims/")
            assert words[lang][1] in page.locator("table.claims").inner_text()
            assert_readable(page)
            screenshot(page, f"payout-prompt-list-{lang}-{width}")
            context.close()


def test_chinese_payment_lines_and_mails_have_no_stray_spaces(django_capture_on_commit_callbacks):
    from django.core import mail

    from accounts.models import Preference

    claims = Claims()
    claim = claims.accepted()
    user = claims.user_of(claim.merchant)
    Preference.objects.update_or_create(user=user, defaults={"language": "zh-hans"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        fail_payment(claim)
    page = client_of(user, "zh-hans").get(reverse("portal:claim", args=[claim.pk])).content.decode()
    status = page.split('id="payment-status"', 1)[1].split("</dd>", 1)[0]
    assert "</span>于" in status and " 于" not in status and "于 " not in status
    box = page.split('id="payment-failed"', 1)[1].split("</div>", 1)[0]
    assert "失败。</strong>银行返回" in box
    timeline = page.split('id="timeline"', 1)[1]
    assert "金额：1,200.00 CNY" in timeline and "金额： " not in timeline
    body = mail.outbox[-1].body
    assert f"理赔：#{claim.pk}" in body and "金额：1,200.00" in body and "： " not in body


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_proposal_shows_one_deadline_to_submit_it(browser, live_server, screenshot):
    claims = Claims()
    proposal = claims.proposed()
    user = claims.user_of(proposal.merchant)
    words = {"en": ("Submit this proposal by", "Submit by"), "zh-hans": ("本建议提交截止", "前提交；逾期后本建议失效")}
    for lang in LANGUAGES:
        for width in WIDTHS:
            context, page = open_as(browser, live_server, user.username, width=width, lang=lang)
            page.goto(f"{live_server.url}/portal/claims/{proposal.pk}/")
            main = page.locator("main").inner_text()
            assert words[lang][0] in page.locator("dl.facts").inner_text()
            assert words[lang][1] in page.locator("#submit-by").inner_text()
            assert "Filing window" not in main and "理赔申请将于" not in main
            assert_readable(page)
            screenshot(page, f"proposal-deadline-{lang}-{width}")
            context.close()


def test_the_policy_default_margin_source_does_not_nest_brackets_in_chinese():
    from django.utils import translation

    from losses.selectors import MARGIN_SOURCES

    with translation.override("zh-hans"):
        text = str(MARGIN_SOURCES["default"])
    assert text == "政策默认值，商家未申报" and "（" not in text


def test_a_finally_rejected_claim_says_it_is_closed():
    claims = Claims()
    claim = claims.proposed()
    user = claims.user_of(claim.merchant)
    flow = claims.flow(claim.merchant)
    disputed = flow.disputed(claim)
    final = workflow.reject(
        claim=workflow.start_review(claim=disputed, by=claims.support2),
        by=claims.support2,
        reason="not_platform_caused",
        message="Your encoder failed.",
    )
    assert final.is_final_round
    html = client_of(user).get(reverse("portal:claim", args=[final.pk])).content.decode()
    assert "This claim is closed; nothing more to do." in html and "Nothing to do right now" not in html
