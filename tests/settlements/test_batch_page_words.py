"""The batch page in the reader's language: the history stores how many claims were added as a
number and says it in words when shown; items name their incident (reference and title) and
link their claim; finance sees a claim's payment status on the claim page."""

import pytest
from django.test import Client
from django.urls import reverse

from settlements.models import SettlementEvent
from settlements.services import settlements as st
from tests.settlements.test_failed_payment import payment_csv

pytestmark = pytest.mark.django_db


def _page(client, batch, language):
    return client.get(reverse("finance:batch", args=[batch.pk]), HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_claims_added_is_said_in_the_readers_language(claims, finance):
    one = st.create_batch(by=finance)
    claims.accepted("10.00")
    st.add_claims(batch=one, by=finance, message="first")
    event = SettlementEvent.objects.get(batch=one, action="add_claims")
    assert event.count == 1 and event.message == "first"  # words are not stored
    client = Client()
    client.force_login(finance)
    html = _page(client, one, "en")
    assert '<span class="event-count">1 claim</span>' in html and "[1 claims]" not in html
    two = st.create_batch(by=finance)
    claims.accepted("11.00", merchant=claims.merchant("b"))
    claims.accepted("12.00", merchant=claims.merchant("c"))
    st.add_claims(batch=two, by=finance)
    assert '<span class="event-count">2 claims</span>' in _page(client, two, "en")
    html = _page(client, two, "zh-hans")
    assert '<span class="event-count">2 条理赔</span>' in html


def test_items_name_their_incident_and_link_their_claim(claims, finance):
    claim = claims.accepted("10.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    client = Client()
    client.force_login(finance)
    html = _page(client, batch, "en")
    incident = claim.incident
    row = html[html.index(f'data-claim="{claim.pk}"') :]
    row = row[: row.index("</tr>")]
    assert incident.title in row and incident.external_id in row
    assert f"{incident.source}:{incident.external_id}" not in row  # not the raw key
    url = reverse("claims_console:claim", args=[claim.pk])
    assert f'href="{url}"' in row
    assert client.get(url).status_code == 200  # finance may open it


def test_finance_sees_the_payment_status_on_the_claim(claims, finance):
    claim = claims.accepted("10.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="d" * 64)
    client = Client()
    client.force_login(finance)
    url = reverse("claims_console:claim", args=[claim.pk])
    assert 'class="payment-exported"' in client.get(url).content.decode()
    st.import_payments(batch=batch, by=finance, data=payment_csv([f"{claim.pk},10.00,CNY,failed,,invalid account"]))
    html = client.get(url).content.decode()
    status = html[html.index('id="payment-status"') :]
    status = status[: status.index("</dd>")]
    assert 'class="payment-failed"' in status and "Payment failed" in status and "invalid account" in status
    batch.refresh_from_db()
    assert batch.get_state_display() == "Failed"
    assert ">Failed</span>" in _page(client, batch, "en")


def test_a_payment_files_figures_are_said_in_the_readers_language(claims, finance):
    claim = claims.accepted("10.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="f" * 64)
    st.import_payments(
        batch=batch, by=finance, data=payment_csv([f"{claim.pk},10.00,CNY,paid,B-9,"]), filename="bank.csv"
    )
    event = SettlementEvent.objects.get(batch=batch, action="import")
    assert event.message == "" and event.payment_import.filename == "bank.csv"  # figures, not words, are stored
    client = Client()
    client.force_login(finance)
    assert "bank.csv: 1 paid, 0 failed, 0 unchanged" in _page(client, batch, "en")
    assert "bank.csv：已付款 1 条，失败 0 条，未变 0 条" in _page(client, batch, "zh-hans")
