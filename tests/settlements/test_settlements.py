from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from claims.models import ClaimEvent, ClaimState
from core.errors import InvalidInput, NotPermitted, StateConflict
from settlements.models import BatchState, ItemStatus, SettlementEvent, SettlementItem
from settlements.services import settlements as st

pytestmark = pytest.mark.django_db


def payment_csv(rows, header="claim_id,amount,currency,status,payment_reference,failure_reason"):
    return ("\n".join([header, *rows]) + "\n").encode()


def test_full_cycle_paid(claims, finance):
    a = claims.accepted("1200.00")
    b = claims.accepted("80.55", merchant=claims.merchant("silk", "丝绸之路"))
    batch = st.create_batch(by=finance, note="November")
    assert batch.reference.startswith("SB-")
    items = st.add_claims(batch=batch, by=finance)
    assert {i.claim_id for i in items} == {a.pk, b.pk}
    batch = st.lock(batch=batch, by=finance, message="ready")
    assert batch.state == BatchState.LOCKED
    batch = st.mark_exported(batch=batch, by=finance, sha256="x" * 64)
    assert batch.state == BatchState.EXPORTED
    result = st.import_payments(
        batch=batch,
        by=finance,
        data=payment_csv([f"{a.pk},1200.00,CNY,paid,BANK-1,", f"{b.pk},80.55,CNY,paid,BANK-2,"]),
        filename="bank.csv",
    )
    assert result.ok and result.paid == 2 and result.batch_state == BatchState.PAID
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.state == b.state == ClaimState.SETTLED
    assert a.payment_reference == "BANK-1"
    # The workflow's own audit and notifications happened.
    ev = ClaimEvent.objects.get(claim=a, action="settle")
    assert ev.actor == finance and ev.actor_role == "finance" and ev.to_state == "settled"
    assert a.notifications.filter(subject__contains="paid").exists()
    # Who, when, why for every batch change, from and to which state.
    actions = list(SettlementEvent.objects.filter(batch=batch).values_list("action", flat=True))
    assert actions[:2] == ["create", "add"] and "lock" in actions and "complete" in actions
    assert all(e.actor_id == finance.pk for e in SettlementEvent.objects.filter(batch=batch))
    assert SettlementEvent.objects.filter(batch=batch, action="lock", to_state="locked", actor=finance).exists()


def test_same_payment_file_twice_changes_nothing(claims, finance):
    a = claims.accepted("10.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="y" * 64)
    data = payment_csv([f"{a.pk},10.00,CNY,paid,BANK-9,"])
    first = st.import_payments(batch=batch, by=finance, data=data)
    events = SettlementEvent.objects.count()
    claim_events = ClaimEvent.objects.count()
    second = st.import_payments(batch=batch, by=finance, data=data)
    assert first.paid == 1 and second.duplicate and second.paid == 0
    assert SettlementEvent.objects.count() == events and ClaimEvent.objects.count() == claim_events
    # A different file with the same outcome is harmless too.
    third = st.import_payments(batch=batch, by=finance, data=data + b"\n")
    assert third.unchanged == 1 and third.paid == 0


def test_failed_payment_returns_claim_to_next_batch(claims, finance):
    a = claims.accepted("100.00")
    b = claims.accepted("200.00", merchant=claims.merchant("silk"))
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="z" * 64)
    res = st.import_payments(
        batch=batch,
        by=finance,
        data=payment_csv([f"{a.pk},100.00,CNY,paid,B-1,", f"{b.pk},200.00,CNY,failed,,账户已冻结 account frozen"]),
    )
    assert res.ok and res.batch_state == BatchState.PARTIALLY_PAID
    b.refresh_from_db()
    assert b.state == ClaimState.ACCEPTED
    item = SettlementItem.objects.get(batch=batch, claim=b)
    assert item.status == ItemStatus.FAILED and not item.is_active and "frozen" in item.failure_reason
    assert list(st.eligible_claims().values_list("pk", flat=True)) == [b.pk]
    nxt = st.create_batch(by=finance)
    assert [i.claim_id for i in st.add_claims(batch=nxt, by=finance)] == [b.pk]


def test_bad_rows_reported_with_line_and_column_and_nothing_applied(claims, finance):
    a = claims.accepted("100.00")
    b = claims.accepted("200.00", merchant=claims.merchant("silk"))
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="z" * 64)
    res = st.import_payments(
        batch=batch,
        by=finance,
        data=payment_csv(
            [
                f"{a.pk},100.00,CNY,paid,B-1,",
                f"{b.pk},200.01,USD,paid,,",
                "abc,1,CNY,paid,X,",
                "999999,1.00,CNY,paid,X,",
                f"{a.pk},100.00,CNY,bounced,X,",
            ]
        ),
    )
    got = {(e.line, e.column) for e in res.errors}
    assert {
        (3, "amount"),
        (3, "currency"),
        (3, "payment_reference"),
        (4, "claim_id"),
        (5, "claim_id"),
        (6, "claim_id"),
    } <= got
    assert res.paid == 0
    a.refresh_from_db()
    assert a.state == ClaimState.ACCEPTED
    assert SettlementItem.objects.filter(batch=batch, status=ItemStatus.PENDING).count() == 2
    missing = st.import_payments(batch=batch, by=finance, data=b"claim_id,amount\n1,2\n")
    assert {(e.line, e.column) for e in missing.errors} == {(1, "currency"), (1, "status"), (1, "payment_reference")}


def test_claim_cannot_join_two_batches(claims, finance):
    a = claims.accepted("100.00")
    one = st.create_batch(by=finance)
    two = st.create_batch(by=finance)
    st.add_claims(batch=one, by=finance, claim_ids=[a.pk])
    with pytest.raises(StateConflict):
        st.add_claims(batch=two, by=finance, claim_ids=[a.pk])
    # The database refuses it even when the service is bypassed.
    with pytest.raises(IntegrityError), transaction.atomic():
        SettlementItem.objects.create(
            batch=two, claim=a, merchant=a.merchant, currency="CNY", amount=Decimal("100.00"), added_by=finance
        )


def test_only_accepted_claims_and_open_batches(claims, finance):
    approved = claims.approved("50.00")
    batch = st.create_batch(by=finance)
    with pytest.raises(StateConflict):
        st.add_claims(batch=batch, by=finance, claim_ids=[approved.pk])
    with pytest.raises(StateConflict):
        st.lock(batch=batch, by=finance)  # empty
    a = claims.accepted("70.00", merchant=claims.merchant("silk"))
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    with pytest.raises(StateConflict):
        st.add_claims(batch=batch, by=finance, claim_ids=[a.pk])
    with pytest.raises(StateConflict):
        st.import_payments(batch=batch, by=finance, data=payment_csv([f"{a.pk},70.00,CNY,paid,B,"]))  # not exported yet


def test_remove_item_needs_reason_and_frees_claim(claims, finance):
    a = claims.accepted("70.00")
    batch = st.create_batch(by=finance)
    (item,) = st.add_claims(batch=batch, by=finance)
    with pytest.raises(InvalidInput):
        st.remove_item(batch=batch, by=finance, item_id=item.pk, reason="")
    st.remove_item(batch=batch, by=finance, item_id=item.pk, reason="商户要求延后 merchant asked to wait")
    assert list(st.eligible_claims().values_list("pk", flat=True)) == [a.pk]


def test_period_filter_by_acceptance_day(claims, finance):
    from datetime import timedelta

    from django.utils import timezone

    a = claims.accepted("70.00")
    today = timezone.localdate()
    assert list(st.eligible_claims(period_start=today, period_end=today).values_list("pk", flat=True)) == [a.pk]
    assert not st.eligible_claims(period_start=today + timedelta(days=1), period_end=None).exists()


def test_support_cannot_run_settlements(claims, finance):
    claims.accepted("70.00")
    with pytest.raises(NotPermitted):
        st.create_batch(by=claims.support)
    batch = st.create_batch(by=finance)
    with pytest.raises(NotPermitted):
        st.add_claims(batch=batch, by=claims.support)


def _exported(claims, finance, *amounts):
    made = [claims.accepted(a, merchant=claims.merchant(f"m{i}")) for i, a in enumerate(amounts)]
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="e" * 64)
    return batch, made


def test_payment_file_type_and_size_are_checked(claims, finance):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from settlements import exports

    batch, (a,) = _exported(claims, finance, "10.00")
    xlsx = exports.xlsx_bytes(exports.batch_rows(batch), batch.reference)  # the filled-in sheet, not saved as CSV
    with pytest.raises(InvalidInput) as exc:
        st.import_payments(batch=batch, by=finance, data=xlsx, filename="bank.xlsx")
    assert exc.value.code == "bad_type" and "XLSX" in exc.value.message
    with pytest.raises(InvalidInput) as exc:
        st.import_payments(batch=batch, by=finance, data=payment_csv([f"{a.pk},10.00,CNY,paid,B\x00-1,"]))
    assert exc.value.code == "bad_type"
    big = payment_csv([f"{a.pk},10.00,CNY,paid,B-1,"]) + b"#" * st.MAX_PAYMENT_FILE_BYTES
    with pytest.raises(InvalidInput) as exc:
        st.read_upload(upload=SimpleUploadedFile("bank.csv", big, content_type="text/csv"))
    assert exc.value.code == "too_large"
    with pytest.raises(InvalidInput) as exc:
        st.import_payments(batch=batch, by=finance, data=big)
    assert exc.value.code == "too_large"
    a.refresh_from_db()
    assert a.state == ClaimState.ACCEPTED and not batch.imports.exists()


def test_unreadable_csv_and_multiline_fields_report_the_file_line(claims, finance):
    batch, (a, b) = _exported(claims, finance, "10.00", "20.00")
    # A quoted reason spanning lines 2-3: the next record starts on line 4 of the file.
    data = payment_csv([f'{a.pk},10.00,CNY,failed,,"账户冻结\naccount frozen"', f"{b.pk},20.01,CNY,paid,B-2,"])
    res = st.import_payments(batch=batch, by=finance, data=data)
    assert [(e.line, e.column) for e in res.errors] == [(4, "amount")]
    huge = payment_csv([f"{a.pk},10.00,CNY,paid,B-1,", f'{b.pk},20.00,CNY,failed,,"{"x" * 200_000}"'])
    res = st.import_payments(batch=batch, by=finance, data=huge)
    assert [(e.line, e.column) for e in res.errors] == [(3, "-")] and "CSV" in res.errors[0].message
    assert SettlementItem.objects.filter(batch=batch, status=ItemStatus.PENDING).count() == 2


def test_open_batch_cannot_be_exported_and_bad_ids_are_input_errors(claims, finance):
    claims.accepted("10.00")
    batch = st.create_batch(by=finance)
    (item,) = st.add_claims(batch=batch, by=finance)
    with pytest.raises(StateConflict):
        st.mark_exported(batch=batch, by=finance, sha256="f" * 64)
    batch.refresh_from_db()
    assert batch.state == BatchState.OPEN and not batch.export_sha256
    with pytest.raises(InvalidInput):
        st.add_claims(batch=batch, by=finance, claim_ids=["abc"])
    with pytest.raises(StateConflict):
        st.remove_item(batch=batch, by=finance, item_id="abc", reason="typo")
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="f" * 64)
    assert (
        st.mark_exported(batch=batch, by=finance, sha256="0" * 64).export_sha256 == "f" * 64
    )  # a second export changes nothing


def test_adding_many_claims_runs_a_bounded_number_of_queries(claims, finance, django_assert_max_num_queries):
    merchants = [claims.merchant("bulk-a"), claims.merchant("bulk-u", currency="USD")]
    made = [claims.accepted(f"{i + 1}.05", merchant=merchants[i % 2]) for i in range(30)]
    batch = st.create_batch(by=finance)
    with django_assert_max_num_queries(12):
        items = st.add_claims(batch=batch, by=finance, message="all of November")
    assert len(items) == 30
    assert set(batch.items.values_list("claim_id", flat=True)) == {c.pk for c in made}
    assert batch.items.get(claim=made[1]).amount == Decimal("2.05") and batch.items.get(claim=made[1]).currency == "USD"
    adds = SettlementEvent.objects.filter(batch=batch, action="add")
    assert adds.count() == 30 and set(adds.values_list("item__claim_id", flat=True)) == {c.pk for c in made}
    assert not adds.exclude(actor=finance).exists() and not adds.exclude(note="all of November").exists()
    summary = SettlementEvent.objects.get(batch=batch, action="add_claims")
    assert (summary.message, summary.count) == ("all of November", 30)


def test_a_claim_taken_by_a_concurrent_add_fails_the_whole_add(claims, finance, monkeypatch):
    """The claim looked eligible when read, but another batch got it first: nothing of the add stays."""
    a = claims.accepted("100.00")
    b = claims.accepted("200.00", merchant=claims.merchant("silk"))
    one, two = st.create_batch(by=finance), st.create_batch(by=finance)
    st.add_claims(batch=one, by=finance, claim_ids=[a.pk])
    stale_read = st.eligible_claims
    # What the second add saw before the first one committed: the claim without its active item.
    monkeypatch.setattr(
        st, "eligible_claims", lambda **p: stale_read(**p).model.objects.filter(pk__in=[a.pk, b.pk]).order_by("pk")
    )
    with pytest.raises(StateConflict) as exc:
        st.add_claims(batch=two, by=finance)
    assert exc.value.code == "in_batch"
    assert not two.items.exists() and not two.events.exclude(action="create").exists()
    assert list(SettlementItem.objects.filter(claim=a, is_active=True).values_list("batch", flat=True)) == [one.pk]
    monkeypatch.undo()
    assert [i.claim_id for i in st.add_claims(batch=two, by=finance)] == [b.pk]
