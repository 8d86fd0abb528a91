"""Finance files a provider credit claim from the SLA dashboard, in headless Chromium."""

import pytest
from django.urls import reverse

from sla import services
from sla.models import CreditClaimState, ProviderCreditClaim
from tests.conftest import browser_login

from .conftest import sh

pytestmark = pytest.mark.django_db


@pytest.mark.browser
def test_finance_files_the_credit_of_a_breaching_month(page, screenshot, finance_user, make_contract, make_incident):
    make_contract()
    make_incident(sh(2026, 9, 2, 10), sh(2026, 9, 2, 10, 5))  # September meets 99.95 %
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11, 30), external_id="ACME-OCT-1")  # October does not
    services.recompute(pairs=[("RTC-2026", "2026-09"), ("RTC-2026", "2026-10")], now=sh(2026, 12, 5))
    claim = ProviderCreditClaim.objects.get()
    due = f"{claim.amount_claimed:,.2f} {claim.currency}"
    assert claim.state == CreditClaimState.DUE and claim.amount_claimed > 0

    browser_login(page, finance_user.username)
    page.goto(page.base_url + reverse("sla:index"))
    page.click("table a:has-text('Acme RTC')")
    page.wait_for_selector("svg.chart")
    assert page.locator("svg.chart path.below").count() == 1  # a cross, not only a red dot
    assert page.locator("svg.chart circle.ok").count() == 1
    assert page.locator("svg.chart line.target").count() == 1
    assert due in page.inner_text("main .grid")  # credits claimed / still due
    screenshot(page, "sla-dashboard-due")

    form = page.locator("#credit-claims form[data-action=file]")
    assert form.locator("input[name=amount_claimed]").input_value() == str(claim.amount_claimed)
    form.locator("input[name=provider_reference]").fill("ACME-T-4410")
    form.locator("textarea[name=message]").fill("Sent to the account manager")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("text=is now Filed")
    row = page.locator(f"#claim-{claim.pk}")
    assert "Filed" in row.inner_text() and "ACME-T-4410" in row.inner_text()
    assert page.locator("#credit-claims form[data-action=acknowledge]").count() == 1
    screenshot(page, "sla-dashboard-filed")

    page.click(f"#claim-{claim.pk} a")
    page.wait_for_selector(".claim-history")
    assert "Sent to the account manager" in page.inner_text(".claim-history")
    assert finance_user.username in page.inner_text(".claim-history")
    screenshot(page, "sla-claim-history")

    claim.refresh_from_db()
    assert claim.state == CreditClaimState.FILED and claim.provider_reference == "ACME-T-4410"
