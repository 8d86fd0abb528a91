"""Loss model v2 on the claim pages (portal and console, headless Chromium) and in the API."""

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.utils import timezone

from claims.models import Claim
from claims.recompute import sync_incident_claims
from incidents.models import Cause, Impact, Incident, IncidentState, Provider, Region, Service
from losses import simulation as sim
from merchants.models import LiveSession, Merchant, SessionMinute
from tests.conftest import browser_login

D = Decimal
MIN = timedelta(minutes=1)
SHAPE = sim.Shape()
LENGTH, OFFSET = 180, 90


def clean(level=100.0):
    return [float(sim.money(level * SHAPE.factor(i, LENGTH))) for i in range(LENGTH)]


def put(merchant, sid, start, values, region):
    session = LiveSession.objects.create(
        merchant=merchant,
        external_id=sid,
        service_code="rtc-video",
        region_code=region,
        started_at=start,
        ended_at=start + len(values) * MIN,
    )
    SessionMinute.objects.bulk_create(
        SessionMinute(session=session, minute=start + i * MIN, viewers=50, orders=1, gmv=sim.money(v), ad_spend=D("2"))
        for i, v in enumerate(values)
    )


def world():
    """A provider outage of 20 minutes in two regions a day ago. The merchant's cn-east session sold
    at 70 % during it; its cn-south session sold 20 % above expectation (no loss). Six earlier
    sessions a day give each its profile."""
    provider, _ = Provider.objects.get_or_create(name="RTC Co", defaults={"kind": Provider.Kind.RTC})
    service, _ = Service.objects.get_or_create(code="rtc-video", defaults={"provider": provider, "name": "RTC video"})
    regions = [Region.objects.get_or_create(code=c, defaults={"name": c})[0] for c in ("cn-east", "cn-south")]
    start = (timezone.now() - timedelta(days=1)).replace(second=0, microsecond=0)
    incident = Incident.objects.create(
        source="test",
        external_id="V2-PAGE",
        title="Video outage",
        service=service,
        impact=Impact.PARTIAL_OUTAGE,
        cause=Cause.THIRD_PARTY,
        state=IncidentState.RESOLVED,
        started_at=start,
        detected_at=start + 2 * MIN,
        resolved_at=start + 20 * MIN,
    )
    incident.regions.set(regions)
    merchant = Merchant.objects.create(code="silk", name="Silk Road Apparel", margin_rate=D("0.7"))
    session_start = start - OFFSET * MIN
    for region in ("cn-east", "cn-south"):
        for d in range(1, 7):
            put(merchant, f"{region}-d{d}", session_start - timedelta(days=d), clean(), region)
    put(merchant, "LIVE-PARTIAL", session_start, sim.outage(clean(), OFFSET, 20, 0.7), "cn-east")
    above = clean()
    above[OFFSET : OFFSET + 30] = [v * 1.2 for v in above[OFFSET : OFFSET + 30]]
    put(merchant, "LIVE-ABOVE", session_start, above, "cn-south")
    sync_incident_claims(incident)
    return merchant, Claim.objects.get(incident=incident, merchant=merchant)


def check_layout(page):
    """No horizontal scrolling and no text box overlapping another one in the breakdown."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    overlaps = page.evaluate(
        """() => {
        const boxes = [...document.querySelectorAll('#breakdown dt, #breakdown dd, #breakdown h3, #breakdown li')]
            .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0);
        let n = 0;
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
            const a = boxes[i], b = boxes[j];
            if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) n++;
        }
        return n;
    }"""
    )
    assert overlaps == 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_v2_breakdown_in_portal_and_console(browser, live_server, screenshot, make_user, support_user):
    merchant, claim = world()
    merchant_user = make_user("silk-user", "merchant", merchants=[merchant])
    assessment = claim.incident.loss_assessments.get(is_current=True)
    lines = {ln.session.external_id: ln for ln in assessment.lines.select_related("session")}
    partial, above = lines["LIVE-PARTIAL"], lines["LIVE-ABOVE"]
    assert partial.net_shortfall > 0 and partial.lost_gmv == partial.expected_gmv - partial.actual_gmv
    assert above.net_shortfall < 0 and above.lost_gmv == 0
    cent = D("0.01")
    lost_profit = (partial.lost_gmv * D("0.6")).quantize(cent, ROUND_HALF_UP)
    wasted = (partial.ad_spend * partial.lost_gmv / partial.expected_gmv).quantize(cent, ROUND_HALF_UP)
    expected_amount = ((lost_profit + wasted) * D("0.5")).quantize(cent, ROUND_HALF_UP)
    assert claim.computed_amount == assessment.compensation == expected_amount  # margin 0.7 capped at 0.6

    for username, path, who in (
        (merchant_user.username, f"/portal/claims/{claim.pk}/", "portal"),
        (support_user.username, f"/console/claims/{claim.pk}/", "console"),
    ):
        for lang, accept in (("en", "en"), ("zh", "zh-hans")):
            for width in (1366, 375):
                context = browser.new_context(
                    viewport={"width": width, "height": 900}, extra_http_headers={"Accept-Language": accept}
                )
                page = context.new_page()
                page.base_url = live_server.url
                browser_login(page, username)
                page.goto(live_server.url + path)
                breakdown = page.locator("#breakdown")
                text = breakdown.inner_text()
                assert f"{partial.expected_gmv:,.2f}" in text
                assert f"{partial.net_shortfall:,.2f}" in text
                assert f"{assessment.compensation:,.2f}" in text
                if lang == "en":
                    assert "Expected GMV had nothing happened" in text
                    assert "sold above expectation: no loss" in text
                    assert "capped at the policy maximum" in text
                    assert "A third party caused the outage: the platform answers for half of the loss." in text
                else:
                    assert "未发生故障时的预期 GMV" in text and "（销售额高于预期：无损失）" in text
                    # Brackets around translated words are full-width in Chinese.
                    assert not re.search(r"[\u4e00-\u9fff][(]|[(][\u4e00-\u9fff]|[\u4e00-\u9fff][)]", text), text
                    assert "故障由第三方造成：平台承担一半损失。" in text
                assert page.locator("svg.chart polyline.expected:visible").count() == 2
                assert page.locator("svg.chart polygon.band:visible").count() == 2
                assert page.locator("svg.chart rect.outage:visible").count() == 2
                check_layout(page)
                screenshot(page, f"losses-v2-{who}-{lang}-{width}")
                context.close()


@pytest.mark.django_db
def test_v2_figures_in_the_api(api_client, make_user):
    merchant, claim = world()
    user = make_user("silk-api", "merchant", merchants=[merchant])
    api_client.force_authenticate(user)
    loss = api_client.get(f"/api/claims/claims/{claim.pk}/").json()["loss"]
    assert loss["model"] == 2 and loss["margin_source"] == "capped" and loss["margin_rate"] == "0.6000"
    by_session = {ln["session"]: ln for ln in loss["lines"]}
    partial = by_session["LIVE-PARTIAL"]
    assert D(partial["expected"]) - D(partial["actual"]) == D(partial["net_shortfall"]) == D(partial["counted"])
    assert len(partial["profile_sessions"]) == 12  # six a day in each region, none touched
    assert D(by_session["LIVE-ABOVE"]["counted"]) == 0
    assert loss["compensation"] == str(claim.computed_amount)
    assert loss["cause_sentence"].startswith("A third party caused the outage")
