"""Portal home and claim pages at 1366 and 375 px in English and Chinese: no label drawn over an
amount (or any text over other text), no sideways scrolling."""

import pytest

from claims.models import Claim
from claims.recompute import sync_incident_claims
from tests.layout import LANGUAGES, WIDTHS, assert_readable, open_as, text_overlaps

from .conftest import hit, make_incident


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_portal_pages_readable_on_phone_and_desktop(browser, live_server, screenshot, merchant, merchant_user):
    incident = make_incident("PH-1")
    hit(incident, merchant, sid="LS-PHONE-1", before="2500", during="10")
    sync_incident_claims(incident)
    claim = Claim.objects.get(incident=incident)
    assert claim.computed_amount > 1000
    for lang in LANGUAGES:
        for width in WIDTHS:
            context, page = open_as(browser, live_server, merchant_user.username, width=width, lang=lang)
            assert page.get_attribute("html", "lang") == lang
            page.goto(f"{live_server.url}/portal/")
            assert page.locator("#proposals td.num").first.is_visible()
            assert_readable(page)
            screenshot(page, f"portal-home-{lang}-{width}")
            page.goto(f"{live_server.url}/portal/claims/{claim.pk}/")
            assert page.locator("#breakdown dd").first.is_visible()
            assert_readable(page)
            screenshot(page, f"portal-claim-{lang}-{width}")
            context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_overlap_check_sees_a_label_drawn_over_an_amount(browser, live_server, merchant, merchant_user):
    """The check itself: a label forced on top of the amount it labels is reported."""
    incident = make_incident("PH-2")
    hit(incident, merchant, sid="LS-PHONE-2", before="2500", during="10")
    sync_incident_claims(incident)
    context, page = open_as(browser, live_server, merchant_user.username, width=375)
    page.goto(f"{live_server.url}/portal/")
    assert text_overlaps(page) == []
    page.add_style_tag(
        content="table.responsive td::before { position:absolute; left:0; width:auto; white-space:nowrap; }"
        " table.responsive td { padding-left:.5rem !important; }"
    )
    found = text_overlaps(page)
    assert any("Proposed amount" in f for f in found), found
    context.close()
