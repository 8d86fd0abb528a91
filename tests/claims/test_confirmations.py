"""Irreversible actions ask first (withdraw, accept, dispute; reject; lock batch): the dialog names
the consequence, Cancel (which has the focus) changes nothing, and only "yes" submits."""

import pytest

from claims.models import Claim, ClaimState
from tests.layout import assert_no_overlap, open_as


def state_of(claim):
    return Claim.objects.get(pk=claim.pk).state


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_withdraw_asks_first(browser, live_server, screenshot, proposed, merchant_user):
    for lang, width in (("en", 375), ("zh-hans", 1366)):
        context, page = open_as(browser, live_server, merchant_user.username, width=width, lang=lang)
        page.goto(f"{live_server.url}/portal/claims/{proposed.pk}/")
        page.locator("#withdraw-form button[type=submit]").click()
        dialog = page.locator("#confirm-dialog")
        assert dialog.is_visible()
        assert "1,200.00 CNY" in dialog.locator("#confirm-message").inner_text()
        assert page.evaluate("document.activeElement.value") == "no"
        assert_no_overlap(page)
        screenshot(page, f"confirm-withdraw-{lang}-{width}")
        page.keyboard.press("Enter")  # Cancel has the focus
        assert not dialog.is_visible()
        assert state_of(proposed) == ClaimState.PROPOSED
        context.close()
    context, page = open_as(browser, live_server, merchant_user.username, width=375)
    page.goto(f"{live_server.url}/portal/claims/{proposed.pk}/")
    page.locator("#withdraw-form button[type=submit]").click()
    page.keyboard.press("Escape")
    assert state_of(proposed) == ClaimState.PROPOSED
    page.locator("#withdraw-form button[type=submit]").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Withdraw the claim").click()
    assert page.locator("#claim-state").inner_text() == "Withdrawn"
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_accept_dispute_and_reject_ask_first(browser, live_server, proposed, flow, merchant_user, support_user):
    claim = flow.partially_approved(proposed)
    context, page = open_as(browser, live_server, merchant_user.username, width=375)
    page.goto(f"{live_server.url}/portal/claims/{claim.pk}/")
    page.locator("#accept-form button[type=submit]").click()
    message = page.locator("#confirm-message").inner_text()
    assert "800.00 CNY" in message and "no longer dispute" in message
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("Dispute the decision (once)").click()
    page.locator("#dispute-form select[name=reason]").select_option("amount_disagreement")
    page.locator("#dispute-form textarea[name=statement]").fill("Sales were higher.")
    page.locator("#dispute-form button[type=submit]").click()
    assert "only once" in page.locator("#confirm-message").inner_text()
    page.get_by_role("button", name="Cancel").click()
    assert state_of(claim) == ClaimState.PARTIALLY_APPROVED
    page.locator("#dispute-form button[type=submit]").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()
    assert state_of(claim) == ClaimState.DISPUTED
    context.close()

    other = Claim.objects.get(pk=claim.pk)
    from claims import services

    other = services.start_review(claim=other, by=flow.s2)
    context, page = open_as(browser, live_server, flow.s2.username, width=1366)
    page.goto(f"{live_server.url}/console/claims/{other.pk}/")
    form = page.locator("#reject-form")
    form.locator("select[name=reason]").select_option("insufficient_evidence")
    form.locator("textarea[name=message]").fill("No order export.")
    form.locator("button[type=submit]").click()
    assert f"Reject claim #{other.pk}?" in page.locator("#confirm-message").inner_text()
    page.get_by_role("button", name="Cancel").click()
    assert state_of(other) == ClaimState.UNDER_REVIEW
    form.locator("button[type=submit]").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()
    assert state_of(other) == ClaimState.REJECTED
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_bulk_approval_asks_first(browser, live_server, proposed, support_user):
    context, page = open_as(browser, live_server, support_user.username, width=375, lang="zh-hans")
    page.goto(f"{live_server.url}/console/claims/")
    form = page.locator("#bulk-form")
    form.locator("input[name=threshold]").fill("5000")
    form.locator("button[type=submit]").click()
    assert page.locator("#confirm-dialog").is_visible()
    message = page.locator("#confirm-message").inner_text()  # which incident, how many, below what
    assert proposed.incident.external_id in message and "5,000.00" in message and "{" not in message
    assert_no_overlap(page)
    page.keyboard.press("Enter")  # Cancel has the focus
    assert state_of(proposed) == ClaimState.PROPOSED
    form.locator("button[type=submit]").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()
    assert state_of(proposed) == ClaimState.APPROVED
    context.close()
