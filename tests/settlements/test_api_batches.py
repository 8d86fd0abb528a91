"""The batches API: a paged list of summaries (counts and totals from the database), items paged on the detail."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from settlements import api
from settlements.services import settlements as st

pytestmark = pytest.mark.django_db


def list_queries(api_client, url="/api/finance/batches/"):
    with CaptureQueriesContext(connection) as ctx:
        r = api_client.get(url)
    assert r.status_code == 200
    return len(ctx), r.json()


def test_batch_list_is_paged_summaries_in_constant_queries(api_client, claims, finance):
    cny, usd = claims.merchant("la"), claims.merchant("lu", currency="USD")

    def batch_with(*amounts):
        for amount, merchant in amounts:
            claims.accepted(amount, merchant=merchant)
        batch = st.create_batch(by=finance, note="n")
        st.add_claims(batch=batch, by=finance)
        return batch

    mixed = batch_with(("10.10", cny), ("0.20", cny), ("5.05", usd))
    st.remove_item(batch=mixed, by=finance, item_id=mixed.items.get(amount=Decimal("0.20")).pk, reason="duplicate")
    batch_with(("1.00", cny))
    st.create_batch(by=finance)  # empty
    api_client.force_authenticate(finance)
    small, body = list_queries(api_client)
    assert body["count"] == 3 and body["next"] is None and len(body["results"]) == 3
    row = next(b for b in body["results"] if b["id"] == mixed.pk)
    assert "items" not in row
    assert row["counts"] == {"pending": 2, "paid": 0, "failed": 0, "removed": 1}
    assert row["totals"] == [
        {"currency": "CNY", "count": 1, "amount": "10.10", "paid": "0.00", "failed": "0.00"},
        {"currency": "USD", "count": 1, "amount": "5.05", "paid": "0.00", "failed": "0.00"},
    ]
    assert body["results"][0]["totals"] == [] and body["results"][0]["counts"]["pending"] == 0  # newest first

    for i in range(27):
        batch_with(("2.00", claims.merchant(f"m{i}", currency="CNY" if i % 2 else "USD")), ("3.00", cny))
    big, body = list_queries(api_client)
    assert body["count"] == 30 and len(body["results"]) == 30
    assert big == small, "the list runs the same queries for 3 and 30 batches"
    assert body["results"][0]["totals"] == [
        {"currency": "CNY", "count": 1, "amount": "3.00", "paid": "0.00", "failed": "0.00"},
        {"currency": "USD", "count": 1, "amount": "2.00", "paid": "0.00", "failed": "0.00"},
    ]

    for _ in range(25):
        st.create_batch(by=finance)
    body = api_client.get("/api/finance/batches/").json()
    assert body["count"] == 55 and len(body["results"]) == 50 and body["next"].endswith("?page=2")
    last, page2 = list_queries(api_client, "/api/finance/batches/?page=2")
    assert last == small and len(page2["results"]) == 5
    assert page2["results"][-1]["id"] == mixed.pk and page2["results"][-1]["totals"] == row["totals"]


def test_batch_detail_pages_its_items_with_totals_over_the_whole_batch(api_client, claims, finance, monkeypatch):
    monkeypatch.setattr(api.ItemPagination, "page_size", 2)
    made = [claims.accepted(f"{i}.25") for i in range(1, 6)]
    batch = st.create_batch(by=finance)
    api_client.force_authenticate(finance)
    r = api_client.post(f"/api/finance/batches/{batch.pk}/add/", {}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert body["items"]["count"] == 5 and len(body["items"]["results"]) == 2
    assert body["totals"] == [{"currency": "CNY", "count": 5, "amount": "16.25", "paid": "0.00", "failed": "0.00"}]
    url = f"/api/finance/batches/{batch.pk}/"
    pages = [api_client.get(url, {"page": n}).json() for n in (1, 2, 3)]
    ids = [i["claim"] for p in pages for i in p["items"]["results"]]
    assert ids == [c.pk for c in made]
    assert pages[0]["items"]["next"].endswith("?page=2") and pages[2]["items"]["next"] is None
    assert all(p["totals"] == body["totals"] and p["counts"]["pending"] == 5 for p in pages)
    with CaptureQueriesContext(connection) as one:
        api_client.get(url, {"page": 1})
    with CaptureQueriesContext(connection) as three:
        api_client.get(url, {"page": 3})
    assert len(one) == len(three)
    assert api_client.get(url, {"page": 9}).status_code == 404
    assert api_client.get("/api/finance/batches/999999/").status_code == 404
