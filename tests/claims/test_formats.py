"""One format on the pages (grouped amounts, the language's dates, words instead of codes) and the
small wording fixes around it: a filed claim is "not computed" rather than worth 0.00, a batch's
period in words, the GMV chart's labels, /favicon.ico."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from claims import charts, permissions, services
from settlements.services import settlements as st
from tests.factories import PNG, IncidentFactory

pytestmark = pytest.mark.django_db


def test_a_filed_claim_is_not_computed_rather_than_worth_nothing(client, merchant, merchant_user, support_user):
    claim = services.file_claim(
        merchant=merchant,
        incident=IncidentFactory(external_id="F-1"),
        by=merchant_user,
        claimed_amount="12345.6",
        statement="Froze for 20 minutes.",
        documents=[SimpleUploadedFile("a.png", PNG)],
    )
    assert claim.computed_amount == 0 and not claim.has_computed_amount
    client.force_login(merchant_user)
    page = client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    computed = page.split('id="computed-amount">', 1)[1].split("</dd>", 1)[0]
    assert "Not computed" in computed and "0.00" not in computed
    assert "12,345.60 CNY" in page  # the claimed amount, grouped
    services.submit(claim=claim, by=merchant_user)
    client.force_login(support_user)
    queue = client.get(reverse("claims_console:queue")).content.decode()
    row = queue.split(f'href="/console/claims/{claim.pk}/"', 1)[1].split("</tr>", 1)[0]
    assert "0.00 CNY" not in row
    # Under review it is decided with an amount: no "Approve 0.00 CNY" button.
    claim = services.start_review(claim=claim, by=support_user)
    offered = permissions.allowed_actions(support_user, claim)
    assert "approve" not in offered and "partially_approve" in offered
    page = client.get(reverse("claims_console:claim", args=[claim.pk])).content.decode()
    assert 'id="approve-form"' not in page and 'id="partial-form"' in page


def test_a_computed_amount_of_a_system_claim_is_shown_even_when_zero(proposed):
    proposed.computed_amount = Decimal("0.00")
    assert proposed.has_computed_amount  # the system computed it: 0.00 is its answer


def test_batch_period_in_words(client, finance_user):
    client.force_login(finance_user)
    cases = [
        ((date(2026, 11, 1), date(2026, 11, 30)), "claims accepted 1 Nov 2026 to 30 Nov 2026"),
        ((date(2026, 11, 1), None), "claims accepted from 1 Nov 2026"),
        ((None, date(2026, 11, 30)), "claims accepted up to 30 Nov 2026"),
        ((None, None), "claims accepted on any date"),
    ]
    for (start, end), words in cases:
        batch = st.create_batch(by=finance_user, period_start=start, period_end=end)
        page = client.get(reverse("finance:batch", args=[batch.pk])).content.decode()
        assert f"Period: {words}" in page and "…" not in page.split("Period", 1)[1][:120]
    home = client.get(reverse("finance:home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "2026年11月1日起接受的理赔" in home


def test_chart_labels_in_the_active_language():
    tz = ZoneInfo("Asia/Shanghai")
    points = [{"minute": datetime(2026, 11, 3, 20, m, tzinfo=tz).isoformat(), "gmv": "12000.00"} for m in range(0, 30)]
    with translation.override("en"):
        chart = charts.svg_chart({"points": points, "session_id": "S"}, tz=tz)
        assert chart["date_label"] == "3 Nov 2026" and chart["max_label"] == "13,200"
        phone = charts.svg_chart({"points": points}, tz=tz, width=charts.PHONE_WIDTH, height=charts.PHONE_HEIGHT)
        assert phone["right"] - phone["left"] < chart["right"] - chart["left"]
    with translation.override("zh-hans"):
        assert charts.svg_chart({"points": points}, tz=tz)["date_label"] == "2026年11月3日"


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_claims_added_is_counted_in_words():
    from settlements.actions import _added

    assert _added([1]) == "1 claim added." and _added([1, 2]) == "2 claims added."
    with translation.override("zh-hans"):
        assert "1" in _added([1]) and "claims" not in _added([1])
