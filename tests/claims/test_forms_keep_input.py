"""A refused form comes back in place: the error summary takes the focus, the field is marked
invalid, and what the user typed or chose is still there (keyboard only, real Chromium)."""

import pytest

from claims.models import Claim, ClaimState
from tests.conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _as(browser, live_server, username, *, width=1366, locale="en-US"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    page = context.new_page()
    page.base_url = live_server.url
    browser_login(page, username)
    return context, page


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


@pytest.mark.parametrize("width", [1366, 375])
def test_support_partial_approval_keeps_amount_and_reason(
    browser, live_server, screenshot, flow, proposed, support_user, width
):
    claim = flow.under_review(proposed)
    ctx, page = _as(browser, live_server, support_user.username, width=width)
    page.goto(f"{page.base_url}/console/claims/{claim.pk}/")

    # Keyboard only: choose a reason with the arrow keys, type a blank message, then the amount.
    page.focus("#id_partially_approve_reason")
    page.keyboard.press("ArrowDown")
    chosen = page.eval_on_selector("#id_partially_approve_reason", "el => el.value")
    page.keyboard.press("Tab")  # the message
    assert _focused_id(page) == "id_partially_approve_message"
    page.keyboard.type("   ")  # passes the browser's `required`, not the server's check
    page.keyboard.press("Tab")  # the amount
    assert _focused_id(page) == "id_partially_approve_amount"
    page.keyboard.press("Control+A")
    page.keyboard.type("123.45")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the "Partially approve" button: it asks first
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()

    assert page.title().startswith("Error:")
    assert _focused_id(page) == "error-summary"
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert "Message to the merchant" in summary.inner_text()
    message = page.locator("#id_partially_approve_message")
    assert message.get_attribute("aria-invalid") == "true"
    assert page.input_value("#id_partially_approve_amount") == "123.45"
    assert page.eval_on_selector("#id_partially_approve_reason", "el => el.value") == chosen
    screenshot(page, f"forms-support-partial-error-{width}")
    # The link in the summary moves the focus to the field.
    summary.get_by_role("link").first.focus()
    page.keyboard.press("Enter")
    assert _focused_id(page) == "id_partially_approve_message"
    ctx.close()
    assert Claim.objects.get(pk=claim.pk).state == ClaimState.UNDER_REVIEW


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_merchant_dispute_with_a_refused_file_keeps_the_statement(
    browser, live_server, screenshot, flow, proposed, merchant_user, settings, tmp_path, locale
):
    settings.MEDIA_ROOT = tmp_path
    claim = flow.partially_approved(proposed)
    ctx, page = _as(browser, live_server, merchant_user.username, width=375, locale=locale)
    if locale == "zh-CN":
        page.select_option("select[name=language]", "zh-hans")
        page.locator("form.langswitch button[type=submit]").click()
        page.wait_for_load_state()
    page.goto(f"{page.base_url}/portal/claims/{claim.pk}/")
    page.locator("details.dispute summary").click()
    page.select_option("#id_dispute_reason", index=1)
    reason = page.eval_on_selector("#id_dispute_reason", "el => el.value")
    page.focus("#id_dispute_statement")
    page.keyboard.type("Our flash sale at 20:00 sold nothing.")
    fake = tmp_path / "receipt.pdf"
    fake.write_bytes(b"MZ\x90\x00 not a pdf at all")
    page.set_input_files("#id_dispute_documents", str(fake))
    page.focus("#dispute-form button[type=submit]")
    page.keyboard.press("Enter")
    # The confirmation dialog opens with Cancel focused; confirm with the keyboard.
    page.locator("#confirm-dialog button[value=yes]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert _focused_id(page) == "error-summary"
    assert "receipt.pdf" in page.locator("#error-summary").inner_text()
    assert page.locator("details.dispute").get_attribute("open") is not None
    assert page.input_value("#id_dispute_statement") == "Our flash sale at 20:00 sold nothing."
    assert page.eval_on_selector("#id_dispute_reason", "el => el.value") == reason
    screenshot(page, f"forms-merchant-dispute-error-{locale}")
    ctx.close()
    assert Claim.objects.get(pk=claim.pk).state == ClaimState.PARTIALLY_APPROVED
