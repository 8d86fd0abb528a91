"""The merchant's pages after a decision, a submit and a failed payment, in both languages at 1366
and 375 px: the amount to be paid leads, the box says what happens next, submitting asks first
with the amount, the list says what is claimed and decided, the payout details can be changed,
and the system's sentences read in the reader's language."""

import pytest

from claims import services as workflow
from merchants.models import Membership, Merchant
from settlements.services import settlements as st
from tests.factories import Claims, UserFactory
from tests.layout import LANGUAGES, WIDTHS, assert_readable, open_as
from tests.settlements.test_failed_payment import payment_csv

from .test_zh_punctuation import half_width_next_to_chinese

WORDS = {
    "en": {
        "to_pay": "Amount to be paid",
        "computed": "Computed amount",
        "next": "Support reviews your claim by",
        "confirm": "Submit your claim for 1,200.00 CNY?",
        "failed": "invalid account (settlement batch",
        "claimed_col": "Amount claimed",
        "decided_col": "Decided amount",
        "saved": "•••• 2345",
    },
    "zh-hans": {
        "to_pay": "待付金额",
        "computed": "系统计算金额",
        "next": "客服将在",
        "confirm": "提交 1,200.00 CNY 的理赔？",
        "failed": "invalid account（结算批次",
        "claimed_col": "申请金额",
        "decided_col": "核定金额",
        "saved": "•••• 2345",
    },
}


def check(page, lang):
    """Both layout checks, and in Chinese no half-width punctuation next to Chinese text."""
    assert_readable(page)
    if lang == "zh-hans":
        found = half_width_next_to_chinese(page.locator("main").inner_text())
        assert found == [], f"{page.url}: {found}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_merchant_pages_in_both_languages_and_widths(browser, live_server, screenshot):
    claims = Claims()
    finance = UserFactory(username="fin-finance", roles=["finance"])
    paid = claims.proposed("1500.00")
    merchant = paid.merchant
    user = claims.user_of(merchant)
    Membership.objects.filter(user=user).update(is_admin=True)
    flow = claims.flow(merchant)
    paid = workflow.accept(claim=flow.partially_approved(paid, amount="1234.50"), by=user)
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    batch = st.mark_exported(batch=batch, by=finance, sha256="e" * 64)
    st.import_payments(batch=batch, by=finance, data=payment_csv([f"{paid.pk},1234.50,CNY,failed,,invalid account"]))
    failed_with = Merchant.objects.get(pk=merchant.pk).payout_account_number
    submitted = flow.submitted(claims.proposed("900.00", merchant=merchant))
    proposed = claims.proposed("1200.00", merchant=merchant)
    assert {words["confirm"] for words in WORDS.values()}  # every language names the amount

    for lang in LANGUAGES:
        words = WORDS[lang]
        for width in WIDTHS:
            context, page = open_as(browser, live_server, user.username, width=width, lang=lang)
            base = live_server.url

            page.goto(f"{base}/portal/claims/{paid.pk}/")
            facts = page.locator("dl.facts").first.inner_text()
            assert words["to_pay"] in facts and "1,234.50 CNY" in facts
            assert words["computed"] in facts and "1,500.00 CNY" in facts  # secondary: it differs
            assert facts.index(words["to_pay"]) < facts.index(words["computed"])
            assert words["failed"] in page.locator("#timeline").inner_text()
            # Until the details are changed (below, on the first round) the box links to them.
            changed = Merchant.objects.get(pk=merchant.pk).payout_account_number != failed_with
            assert page.locator("#payout-updated" if changed else "#payout-link").is_visible()
            check(page, lang)
            screenshot(page, f"merchant-accepted-failed-{lang}-{width}")

            page.goto(f"{base}/portal/claims/{submitted.pk}/")
            assert words["next"] in page.locator("#next-step").inner_text()
            check(page, lang)
            screenshot(page, f"merchant-submitted-next-step-{lang}-{width}")

            page.goto(f"{base}/portal/claims/{proposed.pk}/")
            page.locator("#submit-form button[type=submit]").click()
            dialog = page.locator("#confirm-dialog")
            assert words["confirm"] in dialog.inner_text()
            check(page, lang)
            screenshot(page, f"merchant-submit-confirm-{lang}-{width}")
            dialog.locator("button[value=no]").click()
            assert page.locator("#claim-state").inner_text() != ""

            page.goto(f"{base}/portal/claims/")
            headers = page.locator("table.claims thead").inner_text()
            assert words["claimed_col"] in headers and words["decided_col"] in headers
            row = page.locator(f"table.claims tr:has(a[href$='/claims/{submitted.pk}/'])")
            cell = row.locator("td.num").first
            assert cell.get_attribute("data-label") == words["claimed_col"] and "900.00 CNY" in cell.inner_text()
            if width == 375:  # the phone layout writes the column name before each value
                label = page.evaluate("(td) => getComputedStyle(td, '::before').content", cell.element_handle())
                assert words["claimed_col"] in label
            check(page, lang)
            screenshot(page, f"merchant-claim-list-{lang}-{width}")

            page.goto(f"{base}/portal/notifications/")
            assert page.locator("a.payout-link").first.is_visible()
            check(page, lang)
            screenshot(page, f"merchant-notifications-{lang}-{width}")

            page.get_by_role("navigation").locator("a[href='/portal/payout/']").click()
            prefix = f"#id_m{merchant.pk}"
            page.fill(f"{prefix}-account_name", "Tea House Ltd")
            page.fill(f"{prefix}-bank", "ICBC")
            page.fill(f"{prefix}-account_number", "12")
            page.locator(".payout-form button[type=submit]").click()
            page.wait_for_load_state()
            assert page.locator("#error-summary").is_visible()
            check(page, lang)
            screenshot(page, f"merchant-payout-refused-{lang}-{width}")
            page.fill(f"{prefix}-account_number", "6222 0000 1111 2345")
            page.locator(".payout-form button[type=submit]").click()
            page.wait_for_load_state()
            assert page.locator(f"#payout-{merchant.pk} .payout-number").inner_text() == words["saved"]
            check(page, lang)
            screenshot(page, f"merchant-payout-saved-{lang}-{width}")
            context.close()
