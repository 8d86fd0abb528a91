"""The main path in headless Chromium: propose -> submit -> partial approval -> dispute -> final decision."""

from decimal import Decimal
from functools import partial

import pytest

from claims.models import Claim, ClaimState
from claims.recompute import sync_incident_claims
from tests.conftest import browser_login
from tests.factories import IncidentFactory, hit_session


def as_user(browser, live_server, username, *, width=1280, height=900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US")
    page = context.new_page()
    page.base_url = live_server.url
    browser_login(page, username)
    return context, page


def state_of(claim):
    return Claim.objects.get(pk=claim.pk).state


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_claim_main_path_in_the_browser(
    browser, live_server, screenshot, merchant, merchant_user, support_user, support_user_2, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    incident = IncidentFactory(external_id="BR-1")
    hit_session(incident, merchant, sid="LS-BROWSER")
    sync_incident_claims(incident)
    claim = Claim.objects.get(incident=incident)
    computed = claim.computed_amount
    assert computed > 0
    open_as = partial(as_user, browser, live_server)

    merchant_submits_the_proposal(open_as(merchant_user.username), screenshot, computed)
    assert state_of(claim) == ClaimState.SUBMITTED
    partial_amount = (computed * Decimal("0.6")).quantize(Decimal("0.01"))
    support_partially_approves(open_as(support_user.username), screenshot, claim, partial_amount)
    assert Claim.objects.get(pk=claim.pk).approved_amount == partial_amount
    merchant_disputes_on_a_phone(
        open_as(merchant_user.username, width=375, height=812), screenshot, claim, partial_amount
    )
    first_decider_cannot_take_the_dispute(open_as(support_user.username), claim)
    another_staff_member_decides_finally(open_as(support_user_2.username), screenshot, claim)
    merchant_can_only_accept_the_final_decision(open_as(merchant_user.username), screenshot, claim, computed)
    final = Claim.objects.get(pk=claim.pk)
    assert final.first_decided_by == support_user and final.decided_by == support_user_2


def merchant_submits_the_proposal(session, screenshot, computed):
    """The merchant sees the proposal on the portal home and submits it with one click."""
    ctx, page = session
    assert page.url.endswith("/portal/")
    assert page.locator("#proposals").get_by_text(f"{computed:,.2f} CNY").is_visible()
    screenshot(page, "claims-01-portal-home")
    page.get_by_role("link", name="Review and submit").click()
    assert page.locator("svg.chart polyline.gmv:visible").count() == 1
    assert page.locator("svg.chart rect.outage:visible").count() == 1
    screenshot(page, "claims-02-portal-proposed-claim")
    page.locator("#submit-form button[type=submit]").click()
    dialog = page.locator("#confirm-dialog")  # submitting asks first, naming the amount
    assert f"Submit your claim for {computed:,.2f} CNY?" in dialog.inner_text()
    with page.expect_navigation():
        dialog.locator("button[value=yes]").click()
    assert page.locator("#claim-state").inner_text() == "Submitted"
    ctx.close()


def support_partially_approves(session, screenshot, claim, amount):
    """Support takes it from the queue into review and partially approves it."""
    ctx, page = session
    assert "/console/claims/" in page.url
    screenshot(page, "claims-03-console-queue")
    page.get_by_role("link", name=f"#{claim.pk}", exact=True).click()
    page.get_by_role("button", name="Take into review").click()
    page.wait_for_load_state()
    form = page.locator("#partial-form")
    form.locator("input[name=amount]").fill(str(amount))
    form.locator("select[name=reason]").select_option("baseline_adjusted")
    form.locator("textarea[name=message]").fill("The baseline is lower on weekdays.")
    screenshot(page, "claims-04-console-decision")
    form.get_by_role("button", name="Partially approve").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()  # a partial approval asks first
    assert page.locator("#claim-state").inner_text() == "Partially approved"
    ctx.close()


def merchant_disputes_on_a_phone(session, screenshot, claim, approved):
    """The merchant disputes the partial approval, on a phone-sized screen."""
    ctx, page = session
    page.goto(f"{page.base_url}/portal/claims/{claim.pk}/")
    assert page.locator("#approved-amount").inner_text() == f"{approved:,.2f} CNY"
    page.get_by_text("Dispute the decision (once)").click()
    dispute = page.locator("#dispute-form")
    dispute.locator("select[name=reason]").select_option("amount_disagreement")
    dispute.locator("textarea[name=statement]").fill("Weekday sales were as high as usual; see the export.")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not overflow, "the claim page scrolls sideways at 375px"
    screenshot(page, "claims-05-portal-dispute-375px")
    dispute.get_by_role("button", name="File dispute").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()  # disputing asks first
    assert page.locator("#claim-state").inner_text() == "Disputed"
    ctx.close()


def first_decider_cannot_take_the_dispute(session, claim):
    ctx, page = session
    page.goto(f"{page.base_url}/console/claims/{claim.pk}/")
    assert page.get_by_role("button", name="Take into review").count() == 0
    ctx.close()


def another_staff_member_decides_finally(session, screenshot, claim):
    ctx, page = session
    page.goto(f"{page.base_url}/console/claims/{claim.pk}/")
    page.get_by_role("button", name="Take into review").click()
    page.wait_for_load_state()
    form = page.locator("#approve-form")
    form.locator("select[name=reason]").select_option("loss_confirmed")
    form.locator("textarea[name=message]").fill("After the dispute: the full computed amount.")
    form.get_by_role("button", name="Approve").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()  # approving asks first
    assert page.locator("#claim-state").inner_text() == "Approved"
    screenshot(page, "claims-06-console-final-decision")
    ctx.close()


def merchant_can_only_accept_the_final_decision(session, screenshot, claim, computed):
    ctx, page = session
    page.goto(f"{page.base_url}/portal/claims/{claim.pk}/")
    assert page.locator("#claim-state").inner_text() == "Approved"
    assert page.locator("#approved-amount").inner_text() == f"{computed:,.2f} CNY"
    assert page.get_by_text("This was the final decision after your dispute.").is_visible()
    assert page.get_by_role("button", name="Accept the decision").is_visible()
    assert page.get_by_text("Dispute the decision (once)").count() == 0
    screenshot(page, "claims-07-portal-final-decision")
    ctx.close()
