"""The batch page shows each version of the batch CSV with its own SHA-256: the exported file,
and the file as it downloads after the payment import filled in the results."""

import pytest
from django.urls import reverse

from settlements import exports
from settlements.services import settlements as st

pytestmark = pytest.mark.django_db


def test_exported_and_current_csv_each_with_its_hash(client, claims, finance):
    claim = claims.accepted("10.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    exported = exports.sha256(exports.csv_bytes(exports.batch_rows(batch)))
    st.mark_exported(batch=batch, by=finance, sha256=exported)
    client.force_login(finance)
    page = client.get(reverse("finance:batch", args=[batch.pk])).content.decode()
    assert exported in page and 'id="current-sha256"' not in page
    header = "claim_id,amount,currency,status,payment_reference,failure_reason"
    st.import_payments(batch=batch, by=finance, data=f"{header}\n{claim.pk},10.00,CNY,paid,BANK-1,\n".encode())
    now = exports.sha256(exports.csv_bytes(exports.batch_rows(batch)))
    assert now != exported
    page = client.get(reverse("finance:batch", args=[batch.pk])).content.decode()
    assert exported in page and f'id="current-sha256">SHA-256 {now}' in page


def test_each_payment_file_gives_a_version_with_its_own_hash(client, claims, finance):
    a = claims.accepted("10.00")
    b = claims.accepted("20.00", merchant=claims.merchant("b"))
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    exported = exports.sha256(exports.csv_bytes(exports.batch_rows(batch)))
    st.mark_exported(batch=batch, by=finance, sha256=exported)
    header = "claim_id,amount,currency,status,payment_reference,failure_reason"
    st.import_payments(
        batch=batch, by=finance, data=f"{header}\n{a.pk},10.00,CNY,paid,BANK-1,\n".encode(), filename="first.csv"
    )
    after_first = exports.sha256(exports.csv_bytes(exports.batch_rows(batch)))
    st.import_payments(
        batch=batch,
        by=finance,
        data=f"{header}\n{b.pk},20.00,CNY,failed,,closed account\n".encode(),
        filename="second.csv",
    )
    after_second = exports.sha256(exports.csv_bytes(exports.batch_rows(batch)))
    assert len({exported, after_first, after_second}) == 3
    assert list(batch.imports.order_by("imported_at", "id").values_list("result_sha256", flat=True)) == [
        after_first,
        after_second,
    ]
    client.force_login(finance)
    page = client.get(reverse("finance:batch", args=[batch.pk])).content.decode()
    versions = page[page.index('id="file-versions"') : page.index("</dl>", page.index('id="file-versions"'))]
    assert versions.index(exported) < versions.index("first.csv") < versions.index(after_first)
    assert versions.index("second.csv") < versions.index(after_second)
    assert 'id="current-sha256"' in versions  # the current one, equal to the last version
