"""In Chinese the punctuation around translated words is full-width: the console's and finance's
pages put brackets, colons and separators inside the translated strings, not around them."""

import re

import pytest
from django.utils import timezone

from claims import services
from incidents.models import Incident, IncidentState
from settlements.services import settlements as st
from tests.layout import assert_no_overlap, open_as
from tests.settlements.test_failed_payment import payment_csv

# Half-width punctuation touching Chinese text: "总计 CNY (1)", "进行中)", "(开放 → 已锁定)".
CJK = "\u4e00-\u9fff"
HALF_WIDTH = re.compile(rf"[{CJK}]\s?[(:;,?]|[(]\s?[{CJK}]|[{CJK}][)]")


def half_width(text):
    return sorted({m.group(0) for m in HALF_WIDTH.finditer(text)})


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1366, 375])
def test_console_and_finance_pages_use_full_width_punctuation_in_chinese(
    browser, live_server, claims, finance, screenshot, width
):
    paid = claims.accepted("100.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="c" * 64)
    st.import_payments(batch=batch, by=finance, data=payment_csv([f"{paid.pk},100.00,CNY,paid,B-1,"]))
    review = claims.proposed("50.00")
    flow = claims.flow(review.merchant)
    review = flow.under_review(review)
    services.request_info(claim=review, by=claims.support, reason="missing_information", message="Orders?")
    Incident.objects.filter(pk=review.incident_id).update(state=IncidentState.MITIGATED, resolved_at=None)
    today = timezone.localdate()

    context, page = open_as(browser, live_server, finance.username, width=width, lang="zh-hans")
    page.goto(f"{live_server.url}/finance/batches/{batch.pk}/")
    text = page.locator("main").inner_text()
    assert "合计 CNY（1 笔）" in text and "（已导出 → 已付款）" in text and "；SHA-256" in text
    assert "期间：" in text and "： " not in text  # no space after a full-width colon
    assert half_width(text) == []
    assert_no_overlap(page)
    screenshot(page, f"fullwidth-batch-{width}")
    page.goto(f"{live_server.url}/finance/recovery/?start={today:%Y-%m}-01&end={today}")
    assert half_width(page.locator("main").inner_text()) == []
    page.goto(f"{live_server.url}/console/claims/{review.pk}/")
    text = page.locator("main").inner_text()
    assert "（进行中）" in text
    assert half_width(text) == []
    assert_no_overlap(page)
    screenshot(page, f"fullwidth-claim-{width}")
    context.close()

    context, page = open_as(browser, live_server, finance.username, width=width, lang="en")
    page.goto(f"{live_server.url}/finance/batches/{batch.pk}/")
    text = page.locator("main").inner_text()
    assert "Total CNY (1)" in text and "(Exported → Paid)" in text
    context.close()
