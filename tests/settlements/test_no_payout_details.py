"""A batch cannot be locked while a claim's merchant has no payout details (the payment would fail):
the page marks those claims and names them instead of offering the lock; the service and the API refuse."""

import pytest
from django.test import Client

from core.errors import StateConflict
from merchants.models import Merchant
from settlements.models import BatchState, SettlementBatch
from settlements.services import settlements as st
from tests.layout import assert_no_overlap, open_as


def _without_payout(merchant):
    Merchant.objects.filter(pk=merchant.pk).update(payout_account_name="", payout_bank="", payout_account_number="")


def _batch_with_one_unpayable(claims, finance):
    payable = claims.accepted("5000.00")
    unpayable = claims.accepted("1234.50", merchant=claims.merchant("silk", "Silk Road"))
    _without_payout(unpayable.merchant)
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    return batch, payable, unpayable


@pytest.mark.django_db
def test_lock_is_refused_naming_the_claims_and_the_api_answers_409(claims, finance, api_client):
    batch, payable, unpayable = _batch_with_one_unpayable(claims, finance)
    with pytest.raises(StateConflict) as refused:
        st.lock(batch=batch, by=finance)
    assert f"#{unpayable.pk}" in str(refused.value) and f"#{payable.pk}" not in str(refused.value)
    assert "Remove them" in str(refused.value)
    api_client.force_authenticate(finance)
    r = api_client.post(f"/api/finance/batches/{batch.pk}/lock/", {}, format="json")
    assert r.status_code == 409 and f"#{unpayable.pk}" in str(r.json())
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.OPEN
    # The page's post is refused too (no confirmation bypass), and the batch stays open.
    client = Client()
    client.force_login(finance)
    client.post(f"/finance/batches/{batch.pk}/lock/", {"message": ""})
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.OPEN
    # Once the claim leaves the batch, the batch locks.
    item = batch.items.get(claim=unpayable)
    st.remove_item(batch=batch, by=finance, item_id=item.pk, reason="No payout details yet")
    st.lock(batch=batch, by=finance)
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.LOCKED


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
@pytest.mark.parametrize("width", [1366, 375])
def test_batch_page_marks_the_claims_and_offers_no_lock(browser, live_server, claims, finance, screenshot, lang, width):
    batch, payable, unpayable = _batch_with_one_unpayable(claims, finance)
    context, page = open_as(browser, live_server, finance.username, width=width, lang=lang)
    page.goto(f"{live_server.url}/finance/batches/{batch.pk}/")
    marker = "No payout details" if lang == "en" else "无收款信息"
    assert marker in page.locator(f"#items tr[data-claim='{unpayable.pk}']").inner_text()
    assert page.locator(f"#items tr[data-claim='{payable.pk}'] .no-payout").count() == 0
    # Line amounts are grouped like the total.
    assert "5,000.00" in page.locator(f"#items tr[data-claim='{payable.pk}']").inner_text()
    assert page.locator("#lock").count() == 0
    assert f"#{unpayable.pk}" in page.locator("#lock-no-payout").inner_text()
    assert_no_overlap(page)
    screenshot(page, f"batch-no-payout-{lang}-{width}")
    context.close()


@pytest.mark.django_db
def test_the_payment_import_form_shows_only_while_items_are_pending(claims, finance):
    claim = claims.accepted("5000.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    batch = st.mark_exported(batch=batch, by=finance, sha256="e" * 64)
    client = Client()
    client.force_login(finance)
    assert 'id="import"' in client.get(f"/finance/batches/{batch.pk}/").content.decode()
    csv = f"claim_id,amount,currency,status,payment_reference,failure_reason\n{claim.pk},5000.00,CNY,paid,B-1,\n"
    st.import_payments(batch=batch, by=finance, data=csv.encode())
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.PAID
    page = client.get(f"/finance/batches/{batch.pk}/").content.decode()
    assert 'id="import"' not in page and 'id="dl-csv"' in page
