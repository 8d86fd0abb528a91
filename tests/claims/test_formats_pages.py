"""Claim and incident pages in one format per language, at 1366 and 375 px: amounts grouped by
thousands, dates as "30 Nov 2026 14:05" / "2026年11月30日 14:05", durations in hours and minutes,
the incident page linking its claims, and a GMV chart that stays legible on a phone."""

from datetime import timedelta

import pytest
from django.utils import formats, timezone, translation

from claims.models import Claim
from claims.recompute import sync_incident_claims
from tests.layout import LANGUAGES, WIDTHS, assert_readable, open_as

from .conftest import hit, make_incident

DURATION = {"en": "1 h 50 min", "zh-hans": "1 小时 50 分钟"}
RESOLVED = {"en": "Resolved", "zh-hans": "已解决"}


def _when(moment, lang):
    with translation.override(lang):
        return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_claim_and_incident_pages_in_one_format(
    browser, live_server, screenshot, merchant, merchant_user, support_user, flow
):
    incident = make_incident("FMT-1", duration=timedelta(minutes=110))
    hit(incident, merchant, sid="LS-FMT-1", before="2500", during="10")
    sync_incident_claims(incident)
    claim = flow.under_review(Claim.objects.get(incident=incident))
    assert claim.computed_amount >= 1000
    grouped = f"{claim.computed_amount:,.2f} CNY"
    assert _when(incident.started_at, "en")[-5:] == timezone.localtime(incident.started_at).strftime("%H:%M")
    for lang in LANGUAGES:
        started = _when(incident.started_at, lang)
        assert ("年" in started) == (lang == "zh-hans")
        for width in WIDTHS:
            context, page = open_as(browser, live_server, merchant_user.username, width=width, lang=lang)
            page.goto(f"{live_server.url}/portal/claims/{claim.pk}/")
            facts = page.inner_text("dl.facts")
            assert grouped in facts and started in facts, facts
            # The chart for this width is shown, the other hidden; its labels are drawn at a legible size.
            shown = page.locator(".chart-phone svg" if width == 375 else ".chart-wide svg").first
            hidden = page.locator(".chart-wide svg" if width == 375 else ".chart-phone svg").first
            assert shown.is_visible() and not hidden.is_visible()
            label_px = shown.locator("text").first.evaluate("t => t.getBoundingClientRect().height")
            assert label_px >= 10, f"chart labels {label_px:.1f} px high at {width} px"
            assert_readable(page)
            screenshot(page, f"formats-portal-claim-{lang}-{width}")
            context.close()

            context, page = open_as(browser, live_server, support_user.username, width=width, lang=lang)
            page.goto(f"{live_server.url}/console/claims/{claim.pk}/")
            incident_facts = page.inner_text("#incident-facts")
            assert DURATION[lang] in incident_facts and "1:50:00" not in incident_facts
            assert started in incident_facts
            assert grouped in page.inner_text("#decision")
            assert_readable(page)
            screenshot(page, f"formats-console-claim-{lang}-{width}")

            page.goto(f"{live_server.url}/console/incidents/{incident.pk}/")
            assert DURATION[lang] in page.inner_text("dl.facts")
            legend = page.inner_text("#phase-legend")
            assert RESOLVED[lang] in legend, legend
            claims = page.locator("#incident-claims")
            assert grouped in claims.inner_text()
            claims.locator(f"a[href='/console/claims/{claim.pk}/']").click()
            page.wait_for_url(f"**/console/claims/{claim.pk}/")
            page.go_back()
            assert_readable(page)
            screenshot(page, f"formats-incident-{lang}-{width}")
            context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_decided_claim_page_with_the_dispute_form_folded_and_open(
    browser, live_server, screenshot, merchant, merchant_user, flow
):
    """The folded dispute form is not drawn (the overlap check skips it); unfolded it overlaps nothing."""
    incident = make_incident("FMT-2", duration=timedelta(minutes=80))
    hit(incident, merchant, sid="LS-FMT-2", before="2500", during="10")
    sync_incident_claims(incident)
    claim = flow.partially_approved(Claim.objects.get(incident=incident), amount="1234.50")
    for lang in LANGUAGES:
        for width in WIDTHS:
            context, page = open_as(browser, live_server, merchant_user.username, width=width, lang=lang)
            page.goto(f"{live_server.url}/portal/claims/{claim.pk}/")
            assert "1,234.50 CNY" in page.inner_text("#approved-amount")
            assert not page.locator("#dispute-form button").is_visible()
            assert_readable(page)
            page.click("details.dispute summary")
            assert page.locator("#dispute-form button").is_visible()
            assert_readable(page)
            screenshot(page, f"formats-portal-decided-{lang}-{width}")
            context.close()
