"""The ledger on screen with the export's filters (period, status, merchant, currency), keyset
pages, totals in a table of their own (CSV and XLSX), XLSX dates as date cells."""

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from settlements import exports
from settlements.services import settlements as st
from tests.settlements.test_failed_payment import payment_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(claims, finance):
    """CNY: two paid by a batch, one failed, one not in a batch; USD: one not in a batch."""
    tea, cafe, usd = claims.merchant("tea"), claims.merchant("cafe", name="Cafe"), claims.merchant("us", currency="USD")
    paid = [claims.accepted("100.00", merchant=tea), claims.accepted("200.50", merchant=cafe)]
    failed = claims.accepted("30.00", merchant=tea)
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="c" * 64)
    st.import_payments(
        batch=batch,
        by=finance,
        data=payment_csv(
            [
                f"{paid[0].pk},100.00,CNY,paid,B-1,",
                f"{paid[1].pk},200.50,CNY,paid,B-2,",
                f"{failed.pk},30.00,CNY,failed,,closed",
            ]
        ),
    )
    waiting = claims.accepted("7.25", merchant=cafe)
    dollars = claims.accepted("5.00", merchant=usd)
    return {"paid": paid, "failed": failed, "waiting": waiting, "usd": dollars, "tea": tea}


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_totals_have_their_own_labelled_table(ledger):
    today = timezone.localdate()
    rows = _rows(exports.csv_bytes(exports.ledger_rows(today, today)))
    assert rows[0] == exports.LEDGER_COLUMNS
    blank = rows.index([])
    body, totals = rows[1:blank], rows[blank + 1 :]
    assert len(body) == 5 and all(r[0] != "TOTAL" for r in body)
    assert (
        totals[0]
        == exports.LEDGER_TOTAL_COLUMNS
        == ["totals", "currency", "claims", "approved_amount", "paid_amount", "outstanding_amount"]
    )
    by_currency = {r[1]: r for r in totals[1:]}
    assert by_currency["CNY"] == ["TOTAL", "CNY", "4", "337.75", "300.50", "37.25"]
    assert by_currency["USD"] == ["TOTAL", "USD", "1", "5.00", "0.00", "5.00"]


def test_filters_choose_the_same_claims_on_page_and_in_the_download(client, finance, ledger):
    client.force_login(finance)
    today = timezone.localdate().isoformat()
    url = reverse("finance:ledger")
    cases = {
        "": {c.pk for c in (*ledger["paid"], ledger["failed"], ledger["waiting"], ledger["usd"])},
        "status=paid": {c.pk for c in ledger["paid"]},
        "status=failed": {ledger["failed"].pk},
        "status=unpaid": {ledger["failed"].pk, ledger["waiting"].pk, ledger["usd"].pk},
        "merchant=tea": {ledger["paid"][0].pk, ledger["failed"].pk},
        "currency=usd": {ledger["usd"].pk},
        "merchant=tea&status=paid": {ledger["paid"][0].pk},
    }
    for query, expected in cases.items():
        base = f"{url}?start={today}&end={today}&{query}"
        page = client.get(base)
        assert page.status_code == 200
        shown = {r["claim_id"] for r in page.context["page"]["rows"]}
        assert shown == expected, query
        download = client.get(base + "&format=csv")
        rows = _rows(b"".join(download.streaming_content))
        assert {int(r[1]) for r in rows[1 : rows.index([])]} == expected, query
        assert sum(t["count"] for t in page.context["totals"]) == len(expected)
    html = client.get(f"{url}?start={today}&end={today}&status=failed").content.decode()
    assert f'data-claim="{ledger["failed"].pk}"' in html and "Payment failed" in html
    assert reverse("claims_console:claim", args=[ledger["failed"].pk]) in html


def test_bad_filters_are_named(client, finance, ledger):
    client.force_login(finance)
    r = client.get(reverse("finance:ledger"), {"start": "2026-11-01", "end": "2026-11-30", "merchant": "nobody"})
    assert r.status_code == 400 and "No merchant has the code nobody." in r.content.decode()
    r = client.get(
        reverse("finance:ledger"), {"start": "2026-11-01", "end": "2026-11-30", "currency": "12", "format": "csv"}
    )
    assert r.status_code == 400 and "three letters" in r.content.decode() and not r.get("Content-Disposition")


def test_keyset_pages_walk_every_claim_once(client, finance, claims, django_assert_max_num_queries):
    merchant = claims.merchant("many")
    made = [claims.accepted(f"{i + 1}.00", merchant=merchant) for i in range(7)]
    client.force_login(finance)
    today = timezone.localdate().isoformat()
    url = reverse("finance:ledger")
    from settlements import views

    seen, after, pages = [], None, 0
    old = views.LEDGER_PER_PAGE
    views.LEDGER_PER_PAGE = 3
    try:
        while True:
            query = {"start": today, "end": today, **({"after": after} if after else {})}
            with django_assert_max_num_queries(14):
                page = client.get(url, query).context["page"]
            seen += [r["claim_id"] for r in page["rows"]]
            pages += 1
            after = page["next_after"]
            if after is None:
                break
    finally:
        views.LEDGER_PER_PAGE = old
    assert seen == [c.pk for c in made] and pages == 3


def test_xlsx_dates_are_date_cells_and_amounts_numbers(ledger):
    today = timezone.localdate()
    with exports.xlsx_file(exports.ledger_rows(today, today), "ledger") as handle:
        sheet = load_workbook(handle).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    paid_row = next(r for r in rows[1:] if r[1].value == ledger["paid"][0].pk)
    accepted, paid_on = paid_row[header.index("accepted_on")], paid_row[header.index("paid_on")]
    for cell in (accepted, paid_on):
        assert cell.is_date and isinstance(cell.value, datetime) and cell.value.date() == today
        assert cell.number_format == "yyyy-mm-dd"
    amount = paid_row[header.index("approved_amount")]
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("100.00")
    totals_header = next(i for i, r in enumerate(rows) if r[0].value == "totals")
    assert [c.value for c in rows[totals_header]][:6] == exports.LEDGER_TOTAL_COLUMNS
    cny = next(r for r in rows[totals_header + 1 :] if r[1].value == "CNY")
    assert Decimal(str(cny[3].value)) == Decimal("337.75") and cny[3].data_type == "n"


def test_the_default_page_is_this_month(client, finance, ledger):
    client.force_login(finance)
    r = client.get(reverse("finance:ledger"))
    today = timezone.localdate()
    assert r.context["form"].cleaned_data["start"] == today.replace(day=1)
    assert len(r.context["page"]["rows"]) == 5


def test_an_old_range_is_empty(client, finance, ledger):
    client.force_login(finance)
    old = date(2020, 1, 1)
    r = client.get(reverse("finance:ledger"), {"start": old, "end": old + timedelta(days=30)})
    assert r.context["page"]["rows"] == [] and "No accepted claims match." in r.content.decode()


def test_the_api_takes_the_same_filters(api_client, finance, ledger):
    api_client.force_authenticate(finance)
    today = timezone.localdate().isoformat()
    r = api_client.get(f"/api/finance/ledger/?start={today}&end={today}&status=failed")
    rows = _rows(b"".join(r.streaming_content))
    assert [int(r[1]) for r in rows[1 : rows.index([])]] == [ledger["failed"].pk]
    r = api_client.get(f"/api/finance/ledger/?start={today}&end={today}&currency=X1")
    assert r.status_code == 400 and r.json()["field"] == "currency"
    r = api_client.get(f"/api/finance/ledger/?start={today}&end={today}&status=lost")
    assert r.status_code == 400 and r.json()["field"] == "status"
