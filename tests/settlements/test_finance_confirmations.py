"""Finance's irreversible steps ask first: export for payment, import a payment file, mark a claim
paid by hand. Cancel changes nothing; only "yes" submits."""

import pytest

from claims.models import Claim, ClaimState
from settlements.models import BatchState, ItemStatus, SettlementBatch
from settlements.services import settlements as st
from tests.layout import assert_no_overlap, open_as


def ask(page, form):
    page.locator(f"{form} button[type=submit]").click()
    assert page.locator("#confirm-dialog").is_visible()
    return page.locator("#confirm-message").inner_text()


def cancel(page):
    page.locator("#confirm-dialog button[value=no]").click()
    assert not page.locator("#confirm-dialog").is_visible()


def confirm(page):
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "lang"), [(1366, "en"), (375, "en"), (1366, "zh-hans"), (375, "zh-hans")])
def test_export_and_payment_import_ask_first(browser, live_server, claims, finance, screenshot, tmp_path, width, lang):
    claim = claims.accepted("590.68")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    context, page = open_as(browser, live_server, finance.username, width=width, lang=lang)
    page.goto(f"{live_server.url}/finance/batches/{batch.pk}/")
    assert batch.reference in ask(page, "#export")
    cancel(page)
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.LOCKED
    ask(page, "#export")
    confirm(page)
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.EXPORTED

    payments = tmp_path / "bank.csv"
    payments.write_text(f"claim_id,amount,currency,status,payment_reference\n{claim.pk},590.68,CNY,paid,PAY-1\n")
    page.set_input_files("#payment-file", str(payments))
    message = ask(page, "#import")
    assert batch.reference in message
    assert_no_overlap(page)
    screenshot(page, f"confirm-import-{width}-{lang}")
    cancel(page)
    assert batch.items.get().status == ItemStatus.PENDING
    ask(page, "#import")
    confirm(page)
    assert batch.items.get().status == ItemStatus.PAID
    assert Claim.objects.get(pk=claim.pk).state == ClaimState.SETTLED
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_settling_a_claim_by_hand_asks_first(browser, live_server, claims, finance):
    claim = claims.accepted("12.00")
    context, page = open_as(browser, live_server, finance.username, width=375)
    page.goto(f"{live_server.url}/console/claims/{claim.pk}/")
    page.fill("#settle-form input[name=payment_reference]", "PAY-9")
    assert f"#{claim.pk}" in ask(page, "#settle-form")
    cancel(page)
    assert Claim.objects.get(pk=claim.pk).state == ClaimState.ACCEPTED
    ask(page, "#settle-form")
    confirm(page)
    assert Claim.objects.get(pk=claim.pk).state == ClaimState.SETTLED
    context.close()
