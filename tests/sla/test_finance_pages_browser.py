"""The pages of the finance round in headless Chromium at 1366 and 375 px, in English and
Chinese: SLA credit figures (index, provider, claim, scorecard), the recovery report, the
ledger and a batch page. No text drawn over other text, no sideways scrolling."""

import pytest
from django.urls import reverse
from django.utils import timezone

from settlements.services import settlements as st
from tests.factories import Claims
from tests.layout import LANGUAGES, WIDTHS, assert_readable, open_as
from tests.settlements.test_failed_payment import payment_csv
from tests.sla.test_credit_status import story  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_finance_pages_read_at_both_widths(browser, live_server, screenshot, finance_user, story, lang):  # noqa: F811
    credited, due_only = story
    claims = Claims()
    paid = claims.accepted("1234567.89")
    failed = claims.accepted("590.68", merchant=claims.merchant("silk", name="丝绸之路 Silk Road Livestreams"))
    claims.accepted("75.10", merchant=claims.merchant("usd", currency="USD"))
    batch = st.create_batch(by=finance_user)
    st.add_claims(batch=batch, by=finance_user, message="November")
    st.lock(batch=batch, by=finance_user)
    st.mark_exported(batch=batch, by=finance_user, sha256="e" * 64)
    st.import_payments(
        batch=batch,
        by=finance_user,
        data=payment_csv(
            [f"{paid.pk},1234567.89,CNY,paid,BANK-2026-11-0001,", f"{failed.pk},590.68,CNY,failed,,invalid account"]
        ),
    )
    pages = {
        "sla-index": reverse("sla:index"),
        "sla-provider": reverse("sla:provider", args=[credited.provider_id]),
        "sla-claim-credited": reverse("sla:claim", args=[credited.pk]),
        "sla-claim-due": reverse("sla:claim", args=[due_only.pk]),
        "sla-scorecard": reverse("sla:scorecard") + "?kind=rtc&month=2026-10",
        "finance-recovery": reverse("finance:recovery"),
        "finance-ledger": reverse("finance:ledger"),
        "finance-ledger-failed": reverse("finance:ledger") + "?status=failed",
        "finance-batch": reverse("finance:batch", args=[batch.pk]),
    }
    still_due = {"en": "Still due", "zh-hans": "尚未到账"}[lang]
    claims_added = {"en": "3 claims", "zh-hans": "3 条理赔"}[lang]
    for width in WIDTHS:
        context, page = open_as(browser, live_server, finance_user.username, width=width, lang=lang)
        try:
            for name, url in pages.items():
                page.goto(live_server.url + url)
                page.wait_for_load_state()
                assert_readable(page)
                screenshot(page, f"{name}-{width}-{lang}")
                text = page.inner_text("main")
                if name == "sla-provider":
                    assert still_due in text and "14,400.00 CNY" in text and "10,000.00 CNY" in text
                if name == "finance-batch":
                    assert claims_added in page.inner_text("#history")
                    assert "[3 claims]" not in text
                if name == "finance-ledger":
                    assert page.input_value("input[name=start]") == timezone.localdate().replace(day=1).isoformat()
                if name == "finance-ledger-failed":
                    assert page.locator("#ledger-rows tbody tr").count() == 1
                    assert page.locator(f'#ledger-rows tr[data-claim="{failed.pk}"]').count() == 1
        finally:
            context.close()
