import csv
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from openpyxl import load_workbook

from claims.models import Claim
from settlements import exports
from settlements.services import settlements as st

pytestmark = pytest.mark.django_db


def _exported_batch(claims, finance, amounts):
    made = []
    for i, (amount, currency) in enumerate(amounts):
        merchant = claims.merchant(f"m{i}", f"商户{i} Shop {i}", currency)
        made.append(claims.accepted(amount, merchant=merchant))
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    data = exports.csv_bytes(exports.batch_rows(batch))
    st.mark_exported(batch=batch, by=finance, sha256=exports.sha256(data))
    return batch, made


def _parse_csv(data: bytes):
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_batch_csv_and_xlsx_reconcile_and_are_stable(claims, finance):
    amounts = [("0.10", "CNY"), ("0.20", "CNY"), ("1234.57", "CNY"), ("99.99", "USD"), ("0.01", "USD")]
    batch, made = _exported_batch(claims, finance, amounts)
    data = exports.csv_bytes(exports.batch_rows(batch))
    assert data == exports.csv_bytes(exports.batch_rows(batch))  # same bytes twice
    rows = _parse_csv(data)
    assert rows[0] == exports.BATCH_COLUMNS
    body = [r for r in rows[1:] if r[0] != "TOTAL"]
    totals = {r[5]: (int(r[1]), Decimal(r[6])) for r in rows[1:] if r[0] == "TOTAL"}
    assert len(body) == 5 and "商户0 Shop 0" in {r[3] for r in body}
    for currency in ("CNY", "USD"):
        expected = Claim.objects.filter(pk__in=[c.pk for c in made], currency=currency).aggregate(
            s=Sum("approved_amount")
        )
        assert totals[currency][1] == expected["s"]
    assert totals == {"CNY": (3, Decimal("1234.87")), "USD": (2, Decimal("100.00"))}

    x1 = exports.xlsx_bytes(exports.batch_rows(batch), batch.reference)
    x2 = exports.xlsx_bytes(exports.batch_rows(batch), batch.reference)
    assert x1 == x2
    ws = load_workbook(io.BytesIO(x1)).active
    values = list(ws.values)
    assert list(values[0]) == exports.BATCH_COLUMNS
    xlsx_totals = {r[5]: Decimal(str(r[6])).quantize(Decimal("0.01")) for r in values[1:] if r[0] == "TOTAL"}
    assert xlsx_totals == {"CNY": Decimal("1234.87"), "USD": Decimal("100.00")}


def test_exported_file_round_trips_as_payment_file(claims, finance):
    batch, made = _exported_batch(claims, finance, [("10.00", "CNY"), ("20.00", "CNY")])
    rows = _parse_csv(exports.csv_bytes(exports.batch_rows(batch)))
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(rows[0])
    for r in rows[1:]:
        if r[0] != "TOTAL":
            r[7], r[8] = "paid", f"BANK-{r[1]}"
        w.writerow(r)
    result = st.import_payments(batch=batch, by=finance, data=out.getvalue().encode("utf-8-sig"))
    assert result.ok, result.errors
    assert result.paid == 2 and result.batch_state == "paid"


def test_ledger_totals_per_currency_reconcile(claims, finance):
    batch, made = _exported_batch(claims, finance, [("10.05", "CNY"), ("20.10", "CNY"), ("5.00", "USD")])
    st.import_payments(
        batch=batch,
        by=finance,
        data=(
            "claim_id,amount,currency,status,payment_reference\n"
            f"{made[0].pk},10.05,CNY,paid,P1\n{made[1].pk},20.10,CNY,failed,\n{made[2].pk},5.00,USD,paid,P3\n"
        ).encode(),
    )
    today = timezone.localdate()
    rows = _parse_csv(exports.csv_bytes(exports.ledger_rows(today, today)))
    assert rows[0] == exports.LEDGER_COLUMNS
    blank = rows.index([])
    body = rows[1:blank]
    assert sorted(int(r[1]) for r in body) == sorted(c.pk for c in made)
    # The totals are a table of their own, under their own header: nothing sits in a claim column.
    assert rows[blank + 1] == exports.LEDGER_TOTAL_COLUMNS
    totals = {r[1]: r for r in rows[blank + 2 :]}
    assert totals["CNY"] == ["TOTAL", "CNY", "2", "30.15", "10.05", "20.10"]  # claims, approved, paid, outstanding
    assert sum(Decimal(r[13]) for r in body if r[5] == "CNY") == Decimal("20.10")
    assert Decimal(totals["USD"][4]) == Decimal("5.00")
    assert sum(Decimal(r[6]) for r in body if r[5] == "CNY") == Decimal(totals["CNY"][3])
    assert exports.csv_bytes(exports.ledger_rows(today, today)) == exports.csv_bytes(exports.ledger_rows(today, today))


def test_xlsx_keeps_text_that_looks_like_a_formula_as_text(claims, finance):
    import zipfile

    batch, (claim,) = _exported_batch(claims, finance, [("10.00", "CNY")])
    claim.merchant.name = '=HYPERLINK("http://evil.example","click")'
    claim.merchant.save(update_fields=["name"])
    data = exports.xlsx_bytes(exports.batch_rows(batch), batch.reference)
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet
    ws = load_workbook(io.BytesIO(data)).active
    assert list(ws.values)[1][3] == claim.merchant.name


def test_a_claim_settled_outside_a_batch_counts_as_paid(claims, finance, settings, tmp_path):
    """Finance may settle an accepted claim directly (workflow ``settle``); ledger, recovery report
    and monthly statement must count it as paid, or 'outstanding' and 'net cost' do not reconcile."""
    from claims import services as wf
    from settlements import documents as docs
    from settlements import selectors

    batch, (in_batch,) = _exported_batch(claims, finance, [("10.05", "CNY")])
    st.import_payments(
        batch=batch,
        by=finance,
        data=f"claim_id,amount,currency,status,payment_reference\n{in_batch.pk},10.05,CNY,paid,P1\n".encode(),
    )
    direct = wf.settle(
        claim=claims.accepted("20.10", merchant=claims.merchant("m0")), by=finance, payment_reference="WIRE-7"
    )
    open_claim = claims.accepted("1.00", merchant=claims.merchant("m0"))
    today = timezone.localdate()
    rows = _parse_csv(exports.csv_bytes(exports.ledger_rows(today, today)))
    by_claim = {int(r[1]): r for r in rows[1 : rows.index([])]}
    assert by_claim[direct.pk][9:] == ["paid", "WIRE-7", today.isoformat(), "20.10", "0.00"]
    assert by_claim[open_claim.pk][9:] == ["", "", "", "0.00", "1.00"]
    (total,) = [r for r in rows if r and r[0] == "TOTAL"]
    assert (total[3], total[5], total[4]) == ("31.15", "1.00", "30.15")  # approved, outstanding, paid

    (row,) = selectors.recovery_report()
    assert row["paid"] == Decimal("30.15") and sum(i["claims"] for i in row["incidents"]) == 2

    settings.MEDIA_ROOT = tmp_path
    month = docs.monthly_context(direct.merchant, today.replace(day=1))
    assert [(p["claim"], p["reference"], p["amount"]) for p in month["payments"]] == [
        (f"C-{in_batch.pk:06d}", "P1", "10.05 CNY"),
        (f"C-{direct.pk:06d}", "WIRE-7", "20.10 CNY"),
    ]
    assert month["totals"][0]["paid"] == "30.15 CNY"
