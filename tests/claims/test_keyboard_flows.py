"""Keyboard only: the merchant submits, disputes and accepts, support decides, with Tab, arrows
and Enter. When the server refuses a form, the page comes back with the error summary focused
and everything typed or chosen still there; a refused upload names the file."""

import pytest

from claims import services
from claims.models import Claim, ClaimState
from tests.layout import assert_no_overlap, open_as


def tab_to(page, selector, limit=150):
    """Press Tab until the focused element matches ``selector`` (fails after ``limit`` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def focused_id(page):
    return page.evaluate("document.activeElement.id")


def state_of(claim):
    return Claim.objects.get(pk=claim.pk).state


def confirm_with_keyboard(page):
    """In the confirmation dialog Cancel has the focus: Tab to the "yes" button and press Enter."""
    assert page.locator("#confirm-dialog").is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.value") == "yes"
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_merchant_submits_disputes_and_accepts_by_keyboard(
    browser, live_server, screenshot, proposed, flow, merchant_user, support_user, support_user_2
):
    context, page = open_as(browser, live_server, merchant_user.username, width=375)
    page.goto(f"{live_server.url}/portal/claims/{proposed.pk}/")
    tab_to(page, "form[action$='/submit/'] button[type=submit]")
    page.keyboard.press("Enter")
    confirm_with_keyboard(page)  # submitting asks first
    assert state_of(proposed) == ClaimState.SUBMITTED

    claim = services.start_review(claim=proposed, by=support_user)
    claim = services.partially_approve(
        claim=claim, by=support_user, amount="800.00", reason="baseline_adjusted", message="Adjusted."
    )
    page.goto(f"{live_server.url}/portal/claims/{claim.pk}/")
    tab_to(page, "details.dispute summary")
    page.keyboard.press("Enter")  # opens the dispute form
    tab_to(page, "#dispute-form select[name=reason]")
    page.keyboard.press("ArrowDown")
    chosen = page.evaluate("document.activeElement.value")
    assert chosen
    page.keyboard.press("Tab")
    page.keyboard.type("Weekday sales were as high as usual; see the export.")
    page.set_input_files(
        "#dispute-form input[type=file]",
        files=[{"name": "orders.exe", "mimeType": "application/octet-stream", "buffer": b"MZ\x90\x00 not a document"}],
    )
    tab_to(page, "#dispute-form button[type=submit]")
    page.keyboard.press("Enter")
    confirm_with_keyboard(page)

    # Refused (the file is not a document): same page, summary focused, nothing lost.
    assert state_of(claim) == ClaimState.PARTIALLY_APPROVED
    assert focused_id(page) == "error-summary"
    summary = page.locator("#error-summary").inner_text()
    assert "orders.exe" in summary
    assert page.title().startswith("Error")
    assert page.input_value("#dispute-form select[name=reason]") == chosen
    assert page.input_value("#dispute-form textarea[name=statement]") == (
        "Weekday sales were as high as usual; see the export."
    )
    assert_no_overlap(page)
    screenshot(page, "keyboard-dispute-refused")

    # Without the file it goes through.
    page.set_input_files("#dispute-form input[type=file]", files=[])
    page.focus("#error-summary")
    tab_to(page, "#dispute-form button[type=submit]")
    page.keyboard.press("Enter")
    confirm_with_keyboard(page)
    assert state_of(claim) == ClaimState.DISPUTED

    claim = services.start_review(claim=claim, by=support_user_2)
    claim = services.approve(claim=claim, by=support_user_2, reason="loss_confirmed", message="Matches the metrics.")
    page.goto(f"{live_server.url}/portal/claims/{claim.pk}/")
    tab_to(page, "#accept-form button[type=submit]")
    page.keyboard.press("Enter")
    confirm_with_keyboard(page)
    assert state_of(claim) == ClaimState.ACCEPTED
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_support_decides_by_keyboard_and_keeps_input_on_error(
    browser, live_server, screenshot, proposed, flow, support_user
):
    claim = flow.under_review(proposed)
    context, page = open_as(browser, live_server, support_user.username, width=1366)
    page.goto(f"{live_server.url}/console/claims/{claim.pk}/")
    tab_to(page, "#partial-form select[name=reason]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    reason = page.evaluate("document.activeElement.value")
    assert reason
    tab_to(page, "#partial-form textarea[name=message]")
    page.keyboard.type("   ")  # only spaces: the browser lets it through, the server does not
    tab_to(page, "#partial-form input[name=amount]")
    page.keyboard.press("Control+A")
    page.keyboard.type("750.25")
    tab_to(page, "#partial-form button[type=submit]")
    page.keyboard.press("Enter")  # a partial approval asks first, naming the amount
    assert "750.25" in page.locator("#confirm-message").inner_text()
    confirm_with_keyboard(page)

    assert state_of(claim) == ClaimState.UNDER_REVIEW
    assert focused_id(page) == "error-summary"
    assert page.title().startswith("Error")
    assert page.input_value("#partial-form input[name=amount]") == "750.25"
    assert page.input_value("#partial-form select[name=reason]") == reason
    # The summary's link leads to the field to fix.
    page.keyboard.press("Tab")
    with_link = page.evaluate("document.activeElement.getAttribute('href')")
    assert with_link and with_link.startswith("#"), page.locator("#error-summary").inner_html()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.name") == "message"
    page.keyboard.type("The baseline is lower on weekdays.")
    tab_to(page, "#partial-form button[type=submit]")
    page.keyboard.press("Enter")  # a partial approval asks first, naming the amount
    assert "750.25" in page.locator("#confirm-message").inner_text()
    confirm_with_keyboard(page)
    claim.refresh_from_db()
    assert claim.state == ClaimState.PARTIALLY_APPROVED and str(claim.approved_amount) == "750.25"
    screenshot(page, "keyboard-support-decided")
    context.close()
