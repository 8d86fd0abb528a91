"""An open batch can be cancelled (an empty one too), saying why; an empty batch cannot be locked."""

import pytest
from django.utils import translation

from core.errors import InvalidInput, StateConflict
from settlements.models import BatchState, ItemStatus, SettlementBatch
from settlements.services import settlements as st
from tests.layout import assert_no_overlap, open_as


@pytest.mark.django_db
def test_an_empty_batch_is_cancelled_with_who_and_why_and_cannot_be_locked(finance):
    batch = st.create_batch(by=finance)
    with pytest.raises(StateConflict) as refused:
        st.lock(batch=batch, by=finance)
    assert refused.value.code == "empty" and "cancel the batch" in str(refused.value.message)
    with pytest.raises(InvalidInput) as no_reason:
        st.cancel(batch=batch, by=finance, reason="  ")
    assert no_reason.value.field == "message"
    st.cancel(batch=batch, by=finance, reason="Created by mistake")
    batch.refresh_from_db()
    assert batch.state == BatchState.CANCELLED and batch.completed_at is not None
    event = batch.events.order_by("-id").first()
    assert (event.action, event.actor, event.from_state, event.to_state, event.message) == (
        "cancel",
        finance,
        "open",
        "cancelled",
        "Created by mistake",
    )
    with pytest.raises(StateConflict):
        st.cancel(batch=batch, by=finance, reason="again")
    with pytest.raises(StateConflict):
        st.add_claims(batch=batch, by=finance)


@pytest.mark.django_db
def test_cancelling_a_batch_with_claims_makes_them_eligible_again(claims, finance):
    claim = claims.accepted("12.30")
    batch = st.create_batch(by=finance)
    [item] = st.add_claims(batch=batch, by=finance)
    st.cancel(batch=batch, by=finance, reason="Wrong period")
    item.refresh_from_db()
    assert (item.status, item.is_active, item.failure_reason) == (ItemStatus.REMOVED, False, "Wrong period")
    assert list(st.eligible_claims().values_list("pk", flat=True)) == [claim.pk]
    assert batch.events.filter(action="remove", item=item, note="Wrong period").count() == 1
    assert batch.events.get(action="cancel").count == 1
    again = st.create_batch(by=finance)
    assert [i.claim_id for i in st.add_claims(batch=again, by=finance)] == [claim.pk]


@pytest.mark.django_db
def test_a_locked_batch_cannot_be_cancelled_and_the_api_names_the_reason_field(api_client, claims, finance):
    claims.accepted("5.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    api_client.force_authenticate(finance)
    r = api_client.post(f"/api/finance/batches/{batch.pk}/cancel/", {}, format="json")
    assert r.status_code == 400 and r.json()["field"] == "message"
    st.lock(batch=batch, by=finance)
    r = api_client.post(f"/api/finance/batches/{batch.pk}/cancel/", {"message": "late"}, format="json")
    assert r.status_code == 409
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.LOCKED


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("width", "lang"), [(1366, "en"), (375, "en"), (1366, "zh-hans"), (375, "zh-hans")])
def test_an_empty_batch_offers_cancel_not_lock_and_cancel_asks_first(
    browser, live_server, finance, screenshot, width, lang
):
    batch = st.create_batch(by=finance)
    context, page = open_as(browser, live_server, finance.username, width=width, lang=lang)
    page.goto(f"{live_server.url}/finance/batches/{batch.pk}/")
    assert page.locator("#lock").count() == 0
    with translation.override(lang):
        expected = translation.gettext("An empty batch cannot be locked: add at least one claim, or cancel the batch.")
    assert page.locator("#lock-empty").inner_text() == expected
    page.locator("#cancel-batch input[name=message]").fill("Created by mistake / 误建")
    page.locator("#cancel-batch button[type=submit]").click()
    assert batch.reference in page.locator("#confirm-message").inner_text()
    with translation.override(lang):  # the way back does not read "Cancel" next to "Cancel batch"
        keep, cancel = translation.gettext("Keep the batch"), translation.gettext("Cancel batch")
    assert page.locator("#confirm-dialog button[value=no]").inner_text() == keep
    assert page.locator("#confirm-dialog button[value=yes]").inner_text() == cancel
    assert_no_overlap(page)
    screenshot(page, f"batch-cancel-dialog-{width}-{lang}")
    page.locator("#confirm-dialog button[value=no]").click()
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.OPEN
    page.locator("#cancel-batch button[type=submit]").click()
    with page.expect_navigation():
        page.locator("#confirm-dialog button[value=yes]").click()
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.CANCELLED
    assert page.locator("#cancelled").is_visible()
    assert "Created by mistake / 误建" in page.locator("#history").inner_text()
    assert_no_overlap(page)
    screenshot(page, f"batch-cancelled-{width}-{lang}")
    context.close()


@pytest.mark.django_db
def test_the_database_refuses_a_cancelled_batch_that_was_locked(claims, finance):
    from django.db import IntegrityError, transaction

    claims.accepted("5.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    with pytest.raises(IntegrityError), transaction.atomic():
        SettlementBatch.objects.filter(pk=batch.pk).update(state=BatchState.CANCELLED)
    assert SettlementBatch.objects.get(pk=batch.pk).state == BatchState.LOCKED
