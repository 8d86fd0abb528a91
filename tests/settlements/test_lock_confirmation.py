"""Locking a batch asks first: the dialog says how many claims get frozen in it."""

import pytest

from settlements.models import BatchState, SettlementBatch
from settlements.services import settlements as st
from tests.layout import assert_no_overlap, open_as


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_lock_batch_asks_first(browser, live_server, claims, finance):
    claims.accepted("590.68")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    context, page = open_as(browser, live_server, finance.username, width=375, lang="en")
    page.goto(f"{live_server.url}/finance/batches/{batch.pk}/")
    page.locator("#lock button[type=submit]").click()
    assert "Lock the batch with 1 claim?" in page.locator("#confirm-message").inner_text()
    assert_no_overlap(page)
    page.get_by_role("button", name="Cancel", exact=True).click()
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.OPEN
    page.locator("#lock button[type=submit]").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.LOCKED
    context.close()
