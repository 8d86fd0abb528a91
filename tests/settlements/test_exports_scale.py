"""Exports that stay linear: keyset chunks that neither skip nor repeat a claim, a constant
number of queries per chunk, the stored acceptance time, and XLSX in constant memory."""

import csv
import io
import tracemalloc
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from claims.models import Claim, ClaimEvent
from settlements import exports

pytestmark = pytest.mark.django_db


def _ledger(day):
    data = exports.csv_bytes(exports.ledger_rows(day, day))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    return rows[1 : rows.index([])]


def test_accepting_stores_the_time_the_ledger_selects_by(claims):
    claim = claims.accepted("10.00")
    event = ClaimEvent.objects.get(claim=claim, action="accept")
    assert claim.accepted_at is not None and abs(claim.accepted_at - event.created_at) < timedelta(seconds=1)
    Claim.objects.filter(pk=claim.pk).update(accepted_at=claim.accepted_at - timedelta(days=3))
    today = timezone.localdate()
    assert _ledger(today) == []  # the stored time decides, not the audit trail
    assert [r[1] for r in _ledger(today - timedelta(days=3))] == [str(claim.pk)]


def test_keyset_chunks_neither_skip_nor_repeat_claims_with_equal_times(claims, monkeypatch):
    made = [claims.accepted(f"{i + 1}.00", merchant=claims.merchant(f"m{i % 3}")) for i in range(11)]
    same = made[0].accepted_at
    Claim.objects.filter(pk__in=[c.pk for c in made[2:9]]).update(accepted_at=same)  # ties across chunks
    monkeypatch.setattr(exports, "CHUNK", 3)
    today = timezone.localdate()
    expected = [
        str(pk)
        for pk in Claim.objects.filter(pk__in=[c.pk for c in made])
        .order_by("accepted_at", "pk")
        .values_list("pk", flat=True)
    ]
    with CaptureQueriesContext(connection) as ctx:
        rows = exports.csv_bytes(exports.ledger_rows(today, today))
    body = list(csv.reader(io.StringIO(rows.decode("utf-8-sig"))))[1:]
    assert [r[1] for r in body[: body.index([])]] == expected
    assert Decimal([r for r in body if r and r[0] == "TOTAL"][0][3]) == sum(Decimal(f"{i + 1}.00") for i in range(11))
    # 4 chunks of claims (3, 3, 3, 2), each with one query for its payments, and one for the
    # totals; no OFFSET anywhere
    sql = [q["sql"] for q in ctx.captured_queries]
    assert not any("OFFSET" in q for q in sql)
    assert len(sql) == 9, "\n".join(q[:300] for q in sql)


def _rows(n):
    yield ["claim_id", "merchant", "amount", "note"]
    for i in range(n):
        yield [i, f"商户 {i % 97} shop", Decimal(i) / 100, "=SUM(A1:A2)" if i % 50 == 0 else f"row {i}"]


def _peak(n):
    tracemalloc.start()
    try:
        with exports.xlsx_file(_rows(n), "sheet") as handle:
            handle.seek(0, io.SEEK_END)
            size = handle.tell()
        return tracemalloc.get_traced_memory()[1], size
    finally:
        tracemalloc.stop()


def test_xlsx_is_written_in_constant_memory():
    small, small_size = _peak(2_000)
    large, large_size = _peak(40_000)
    assert large_size > 10 * small_size  # twenty times the rows really were written...
    assert large < small * 1.5 + 512 * 1024  # ...with about the same memory


def test_xlsx_file_keeps_rows_and_text():
    with exports.xlsx_file(_rows(120), "sheet") as handle:
        sheet = load_workbook(handle).active
        values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 121 and values[1] == (0, "商户 0 shop", 0, "=SUM(A1:A2)")
    assert values[-1][2] == pytest.approx(1.19)


def _payments(rows):
    return ("claim_id,amount,currency,status,payment_reference,failure_reason\n" + "\n".join(rows) + "\n").encode()


def _next_batch(finance):
    from settlements.services import settlements as st

    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    return st.mark_exported(batch=batch, by=finance, sha256="a" * 64)


def test_ledger_csv_from_sql_is_byte_identical_to_the_python_rows(claims, finance, settings):
    """The CSV PostgreSQL writes (``ledger_csv``) and the rows the XLSX is built from
    (``ledger_rows`` through ``iter_csv``) are the same bytes, on the cases where they could part:
    text that needs quoting or neutralising, paid, failed and re-batched items, claims settled
    outside a batch, two currencies, equal acceptance times and a local day that is not UTC's."""
    from claims import services as wf
    from settlements.services import settlements as st

    settings.TIME_ZONE = "Asia/Shanghai"
    names = ['=HYPERLINK("x")', 'Tea, "Leaf" & Co', "两行\r\n商户", "-12 shop", "+1", "@home", "\tTab", "普通商户"]
    made = [
        claims.accepted(f"{i + 1}.0{i}", merchant=claims.merchant(f"m{i}", name, "USD" if i % 3 == 0 else "CNY"))
        for i, name in enumerate(names)
    ]
    first = _next_batch(finance)
    st.import_payments(
        batch=first,
        by=finance,
        data=_payments(
            [
                f"{made[0].pk},{made[0].approved_amount},USD,paid,=REF-1,",
                f"{made[1].pk},{made[1].approved_amount},CNY,failed,,closed",
                f"{made[2].pk},{made[2].approved_amount},CNY,failed,,closed",
            ]
        ),
    )
    _next_batch(finance)  # the failed claims (and the rest) again: a pending item after a failed one
    wf.settle(
        claim=claims.accepted("7.77", merchant=claims.merchant("m1")), by=finance, payment_reference='WIRE "7", 东'
    )
    late = claims.accepted("0.01", merchant=claims.merchant("m2"))
    Claim.objects.filter(pk=late.pk).update(accepted_at=made[0].accepted_at)  # a tie on the keyset
    Claim.objects.filter(pk=made[4].pk).update(accepted_at=made[4].accepted_at.replace(hour=17, minute=30))
    day = timezone.localdate()
    for start, end in ((day - timedelta(days=1), day + timedelta(days=1)), (day, day), (day + timedelta(days=5),) * 2):
        expected = exports.csv_bytes(exports.ledger_rows(start, end))
        assert b"".join(exports.ledger_csv(start, end)) == expected
    wide_range = (day - timedelta(days=1), day + timedelta(days=1))
    for filters in (
        {"status": "paid"},
        {"status": "failed"},
        {"status": "unpaid"},
        {"currency": "USD"},
        {"merchant_id": made[1].merchant_id, "status": "unpaid"},
    ):
        filtered = exports.csv_bytes(exports.ledger_rows(*wide_range, **filters))
        assert b"".join(exports.ledger_csv(*wide_range, **filters)) == filtered, filters
    expected = exports.csv_bytes(exports.ledger_rows(day + timedelta(days=5), day + timedelta(days=5)))
    body = list(csv.reader(io.StringIO(expected.decode("utf-8-sig"))))
    assert sum(r[:1] == ["TOTAL"] for r in body) == 0  # the last range is empty: the headers alone
    wide = exports.csv_bytes(exports.ledger_rows(day - timedelta(days=1), day + timedelta(days=1))).decode("utf-8-sig")
    assert "'=HYPERLINK" in wide and "两行\r\n商户" in wide and '"WIRE ""7"", 东"' in wide


def test_ledger_csv_without_copy_writes_the_same_bytes(claims, finance, monkeypatch):
    """The embedded demo's SQLite has no COPY: there the ledger CSV comes from the Python rows,
    with every claim and the totals, the same bytes PostgreSQL writes."""
    made = [claims.accepted(f"{i + 1}.50", merchant=claims.merchant(f"s{i}")) for i in range(3)]
    day = timezone.localdate()
    from_copy = b"".join(exports.ledger_csv(day, day))
    monkeypatch.setattr(connection, "vendor", "sqlite")
    without_copy = b"".join(exports.ledger_csv(day, day))
    assert without_copy == from_copy
    rows = list(csv.reader(io.StringIO(without_copy.decode("utf-8-sig"))))
    assert {str(c.pk) for c in made} <= {r[1] for r in rows if len(r) > 1} and any(r[:1] == ["TOTAL"] for r in rows)
