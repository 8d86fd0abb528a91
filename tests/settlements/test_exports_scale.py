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
