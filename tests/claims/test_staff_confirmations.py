"""Support's irreversible decisions ask first: approve, partially approve (naming the typed amount and
the currency), confirm a second approval, mark as paid, void an incident. Cancel changes nothing;
only "yes" submits."""

import pytest

from claims import services
from claims.models import Claim, ClaimState
from incidents.models import IncidentState
from tests.factories import IncidentFactory
from tests.layout import assert_no_overlap, open_as

SIZES = [(1366, "en"), (375, "en"), (1366, "zh-hans"), (375, "zh-hans")]


def reload(claim):
    return Claim.objects.get(pk=claim.pk)


def ask_and_cancel(page, form):
    page.locator(f"{form} button[type=submit]").click()
    message = page.locator("#confirm-message").inner_text()
    assert page.locator("#confirm-dialog").is_visible()
    page.locator("#confirm-dialog button[value=no]").click()
    assert not page.locator("#confirm-dialog").is_visible()
    return message


def ask_and_confirm(page, form):
    page.locator(f"{form} button[type=submit]").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "lang"), SIZES)
def test_approve_and_partial_approval_ask_first(browser, live_server, screenshot, proposed, flow, width, lang):
    claim = flow.under_review(proposed)
    context, page = open_as(browser, live_server, flow.s.username, width=width, lang=lang)
    page.goto(f"{live_server.url}/console/claims/{claim.pk}/")

    approve = page.locator("#approve-form")
    approve.locator("select[name=reason]").select_option("loss_confirmed")
    approve.locator("textarea[name=message]").fill("Matches the metrics.")
    message = ask_and_cancel(page, "#approve-form")
    assert f"#{claim.pk}" in message and "1,200.00 CNY" in message
    assert reload(claim).state == ClaimState.UNDER_REVIEW

    partial = page.locator("#partial-form")
    partial.locator("input[name=amount]").fill("1000")  # typed without grouping, read back grouped
    partial.locator("select[name=reason]").select_option("baseline_adjusted")
    partial.locator("textarea[name=message]").fill("Baseline adjusted.")
    partial.locator("button[type=submit]").click()
    message = page.locator("#confirm-message").inner_text()
    assert f"#{claim.pk}" in message and "1,000.00 CNY" in message and "{amount}" not in message
    # Above the computed amount nothing reaches the merchant before a second reviewer confirms.
    assert "1,200.00 CNY" in message and ("second reviewer" in message or "另一位审核员" in message)
    assert_no_overlap(page)
    screenshot(page, f"confirm-partial-{width}-{lang}")
    page.locator("#confirm-dialog button[value=no]").click()
    assert reload(claim).state == ClaimState.UNDER_REVIEW

    ask_and_confirm(page, "#partial-form")
    claim = reload(claim)
    assert claim.state == ClaimState.PARTIALLY_APPROVED and str(claim.approved_amount) == "1000.00"
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_approve_confirmed_approves(browser, live_server, proposed, flow):
    claim = flow.under_review(proposed)
    context, page = open_as(browser, live_server, flow.s.username, width=375)
    page.goto(f"{live_server.url}/console/claims/{claim.pk}/")
    page.locator("#approve-form select[name=reason]").select_option("loss_confirmed")
    page.locator("#approve-form textarea[name=message]").fill("Matches the metrics.")
    ask_and_confirm(page, "#approve-form")
    assert reload(claim).state == ClaimState.APPROVED
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "lang"), [(375, "zh-hans"), (1366, "en")])
def test_second_approval_asks_first(browser, live_server, screenshot, proposed, flow, width, lang):
    claim = flow.under_review(proposed)
    services.partially_approve(claim=claim, by=flow.s, amount="1300.00", reason="baseline_adjusted", message="More.")
    context, page = open_as(browser, live_server, flow.s2.username, width=width, lang=lang)
    page.goto(f"{live_server.url}/console/claims/{claim.pk}/")
    message = ask_and_cancel(page, "#confirm-approval-form")
    assert f"#{claim.pk}" in message and "1,300.00 CNY" in message
    assert reload(claim).pending_amount is not None
    page.locator("#confirm-approval-form button[type=submit]").click()
    assert_no_overlap(page)
    screenshot(page, f"confirm-second-approval-{width}-{lang}")
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()
    claim = reload(claim)
    assert claim.pending_amount is None and str(claim.approved_amount) == "1300.00"
    assert claim.state != ClaimState.UNDER_REVIEW
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "lang"), [(1366, "zh-hans"), (375, "en")])
def test_void_asks_first_and_other_steps_do_not(browser, live_server, screenshot, support_user, width, lang):
    incident = IncidentFactory(state=IncidentState.DETECTED, title="CDN flap")
    context, page = open_as(browser, live_server, support_user.username, width=width, lang=lang)
    page.goto(f"{live_server.url}/console/incidents/{incident.pk}/")
    page.select_option("select[name=action]", "void")
    page.fill("#transition-form textarea[name=message]", "False alarm")
    message = ask_and_cancel(page, "#transition-form")
    assert "CDN flap" in message
    incident.refresh_from_db()
    assert incident.state == IncidentState.DETECTED
    page.locator("#transition-form button[type=submit]").click()
    assert_no_overlap(page)
    screenshot(page, f"confirm-void-{width}-{lang}")
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()
    incident.refresh_from_db()
    assert incident.state == IncidentState.VOIDED
    other = IncidentFactory(state=IncidentState.DETECTED, title="Other")
    page.goto(f"{live_server.url}/console/incidents/{other.pk}/")
    page.select_option("select[name=action]", "acknowledge")
    page.fill("#transition-form textarea[name=message]", "Paged")
    with page.expect_navigation():
        page.locator("#transition-form button[type=submit]").click()
    other.refresh_from_db()
    assert other.state == IncidentState.ACKNOWLEDGED
    context.close()
