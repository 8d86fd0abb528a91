"""Money safety of settlements: no double payment, the member rule, honest concurrent adds, safe CSV cells."""

import csv
import io
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from claims import services as wf
from claims.models import ClaimState
from core.errors import NotPermitted, StateConflict
from settlements import exports
from settlements.models import BatchState, SettlementItem
from settlements.services import settlements as st

from .test_settlements import payment_csv

pytestmark = pytest.mark.django_db


def exported_batch(claims, finance, *accepted):
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance, claim_ids=[c.pk for c in accepted])
    st.lock(batch=batch, by=finance)
    return st.mark_exported(batch=batch, by=finance, sha256="z" * 64)


# --- Item 2: a claim in an exported batch is paid by the batch only ------------------------


def test_a_claim_in_an_exported_batch_cannot_be_settled_directly(claims, finance):
    a = claims.accepted("100.00")
    batch = exported_batch(claims, finance, a)
    with pytest.raises(StateConflict) as exc:
        wf.settle(claim=a, by=finance, payment_reference="WIRE-1")
    assert exc.value.code == "in_batch" and batch.reference in exc.value.message
    a.refresh_from_db()
    assert a.state == ClaimState.ACCEPTED
    # The batch's payment file still settles it, once.
    result = st.import_payments(batch=batch, by=finance, data=payment_csv([f"{a.pk},100.00,CNY,paid,BANK-1,"]))
    assert result.ok and result.paid == 1
    a.refresh_from_db()
    assert a.state == ClaimState.SETTLED and a.payment_reference == "BANK-1"


def test_direct_settle_in_a_batch_is_refused_by_api_and_console(claims, finance, client, api_client):
    a = claims.accepted("100.00")
    batch = exported_batch(claims, finance, a)
    api_client.force_authenticate(finance)
    response = api_client.post(f"/api/claims/claims/{a.pk}/settle/", {"payment_reference": "WIRE-2"}, format="json")
    assert response.status_code == 409, response.content
    assert batch.reference in response.json()["detail"]
    client.force_login(finance)
    response = client.post(f"/console/claims/{a.pk}/settle/", {"payment_reference": "WIRE-3"}, follow=True)
    assert batch.reference in response.content.decode()
    a.refresh_from_db()
    assert a.state == ClaimState.ACCEPTED


def test_a_failed_batch_payment_frees_the_claim_for_a_direct_settle(claims, finance):
    a = claims.accepted("100.00")
    batch = exported_batch(claims, finance, a)
    st.import_payments(batch=batch, by=finance, data=payment_csv([f"{a.pk},100.00,CNY,failed,,closed account"]))
    assert wf.settle(claim=a, by=finance, payment_reference="WIRE-4").state == ClaimState.SETTLED


# --- Item 3: finance staff of a merchant never handle its claims ----------------------------


def test_finance_member_cannot_add_its_merchants_claims(claims, make_user):
    tea = claims.merchant("tea")
    silk = claims.merchant("silk")
    own, other = claims.accepted("10.00", merchant=tea), claims.accepted("20.00", merchant=silk)
    member = make_user("fin-tea", "finance", merchants=[tea])
    batch = st.create_batch(by=member)
    with pytest.raises(NotPermitted) as exc:
        st.add_claims(batch=batch, by=member, claim_ids=[own.pk, other.pk])
    assert f"#{own.pk}" in exc.value.message and not batch.items.exists()
    # "All eligible" leaves the member's own merchant out.
    assert [i.claim_id for i in st.add_claims(batch=batch, by=member)] == [other.pk]


def test_finance_member_cannot_lock_export_or_import_its_merchants_claims(claims, finance, make_user, api_client):
    tea = claims.merchant("tea")
    own = claims.accepted("10.00", merchant=tea)
    member = make_user("fin-tea", "finance", merchants=[tea])
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance, claim_ids=[own.pk])
    api_client.force_authenticate(member)
    response = api_client.post(f"/api/finance/batches/{batch.pk}/lock/", {}, format="json")
    assert response.status_code == 403 and f"#{own.pk}" in response.json()["detail"]
    st.lock(batch=batch, by=finance)
    with pytest.raises(NotPermitted):
        st.mark_exported(batch=batch, by=member, sha256="a" * 64)
    st.mark_exported(batch=batch, by=finance, sha256="a" * 64)
    with pytest.raises(NotPermitted):
        st.import_payments(batch=batch, by=member, data=payment_csv([f"{own.pk},10.00,CNY,paid,BANK-1,"]))
    batch.refresh_from_db()
    assert batch.state == BatchState.EXPORTED


def test_api_add_by_a_member_is_403(claims, make_user, api_client):
    tea = claims.merchant("tea")
    own = claims.accepted("10.00", merchant=tea)
    member = make_user("fin-tea", "finance", merchants=[tea])
    batch = st.create_batch(by=member)
    api_client.force_authenticate(member)
    response = api_client.post(f"/api/finance/batches/{batch.pk}/add/", {"claim_ids": [own.pk]}, format="json")
    assert response.status_code == 403
    assert not batch.items.exists()


# --- Item 4: a concurrent add never answers success with nothing added ----------------------


def race_two_adds(finance, batches, ids):
    """Two finance users add the same claims to two batches at the same moment (real threads)."""
    barrier = threading.Barrier(2)
    results = [None, None]

    def add(i):
        try:
            barrier.wait()
            try:
                results[i] = ("ok", len(st.add_claims(batch=batches[i], by=finance, claim_ids=ids)))
            except StateConflict as exc:
                results[i] = ("409", exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_of_the_same_claims_one_wins_the_other_is_told(make_user):
    from tests.settlements.conftest import Claims

    factory = Claims(make_user)
    finance = make_user("fay-finance", "finance")
    for n in range(25):
        ids = [factory.accepted("10.00").pk for _ in range(2)]
        results = race_two_adds(finance, [st.create_batch(by=finance), st.create_batch(by=finance)], ids)
        # Never a success that added nothing: a success added both claims, the loser was told which.
        for kind, detail in results:
            if kind == "ok":
                assert detail == 2, (n, results)
            else:
                assert all(f"#{pk}" in detail for pk in ids), (n, results)
        assert sorted(kind for kind, _ in results) == ["409", "ok"], (n, results)
        assert SettlementItem.objects.filter(claim_id__in=ids, is_active=True).count() == 2


# --- Item 8: CSV cells a spreadsheet would run as formulas ----------------------------------


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_exports_neutralise_formula_cells(claims, finance, prefix):
    evil = f'{prefix}HYPERLINK("http://x")'
    merchant = claims.merchant("evil", name=evil)
    a = claims.accepted("10.00", merchant=merchant)
    batch = exported_batch(claims, finance, a)
    out = io.StringIO()
    csv.writer(out).writerows(
        [["claim_id", "amount", "currency", "status", "payment_reference", "failure_reason"]]
        + [[a.pk, "10.00", "CNY", "failed", f"x{evil}", evil]]
    )
    assert st.import_payments(batch=batch, by=finance, data=out.getvalue().encode()).ok
    item = batch.items.get()

    def cells(data: bytes):
        return [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]

    batch_cells = cells(exports.csv_bytes(exports.batch_rows(batch)))
    day = timezone.localdate()
    ledger_cells = cells(exports.csv_bytes(exports.ledger_rows(day - timedelta(days=1), day + timedelta(days=1))))
    for found in (batch_cells, ledger_cells):
        assert f"'{evil}" in found
        assert not any(c.startswith(("=", "+", "@", "\t", "\r")) for c in found)
        assert not any(c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit() for c in found)
    # The bank's failure reason is neutralised too (the import strips blanks, so \t and \r go there).
    assert exports.neutralise(item.failure_reason) in batch_cells and f"x{evil}".strip() in batch_cells


def test_a_neutralised_export_sent_back_reads_the_original_reference(claims, finance):
    a = claims.accepted("10.00")
    batch = exported_batch(claims, finance, a)
    st.import_payments(batch=batch, by=finance, data=payment_csv([f"{a.pk},10.00,CNY,paid,-REF-7,"]))
    exported = exports.csv_bytes(exports.batch_rows(batch))
    assert b"'-REF-7" in exported
    # The same file again (the bank's copy of our export) is recognised as the same outcome.
    again = st.import_payments(batch=batch, by=finance, data=exported)
    assert again.ok and again.unchanged == 1
