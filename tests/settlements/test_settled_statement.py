"""A claim paid through a payment file gets its settlement statement in the background (a real
Celery worker through Redis): once per settlement, a new version when one was issued before."""

import time

import pytest
from django.urls import reverse

from claims.models import ClaimState
from settlements.models import DocumentKind, IssuedDocument
from settlements.services import documents as ds
from settlements.services import settlements as st
from settlements.tasks import issue_settled_statement
from tests.settlements.test_failed_payment import payment_csv


def _pay(claims, finance, *claim_list):
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance, claim_ids=[c.pk for c in claim_list])
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="a" * 64)
    rows = [f"{c.pk},{c.approved_amount},{c.currency},paid,PAY-{c.pk}," for c in claim_list]
    result = st.import_payments(batch=batch, by=finance, data=payment_csv(rows))
    assert result.paid == len(claim_list)


def _statements(claim):
    return IssuedDocument.objects.filter(kind=DocumentKind.CLAIM_STATEMENT, claim=claim).order_by("version")


def _wait_for(claim, versions, deadline=90):
    """The worker issues the statement after the import commits: wait until it has."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if _statements(claim).count() >= versions:
            return list(_statements(claim))
        time.sleep(0.2)
    raise AssertionError(f"no statement for claim #{claim.pk}")


@pytest.mark.celery_worker
def test_a_payment_import_issues_the_statement_once(celery_worker_thread, claims, finance, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    claim = claims.accepted("321.09")
    _pay(claims, finance, claim)
    claim.refresh_from_db()
    assert claim.state == ClaimState.SETTLED
    [statement] = _wait_for(claim, 1)
    assert statement.version == 1 and statement.issued_by is None and statement.reason == ""
    assert statement.file.open("rb").read(5) == b"%PDF-"

    # Run again (a redelivery, or by hand): the same statement, no second one.
    again = issue_settled_statement.delay(claim.pk).get(timeout=60)
    assert again == {"id": statement.pk, "version": 1}
    assert issue_settled_statement.delay(claim.pk).get(timeout=60) == again
    assert _statements(claim).count() == 1

    # The merchant and staff see it on the claim page.
    download = reverse("finance:download", args=[statement.pk])
    client.force_login(claims.user_of(claim.merchant))
    assert download in client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    client.force_login(claims.support)
    assert download in client.get(reverse("claims_console:claim", args=[claim.pk])).content.decode()


@pytest.mark.celery_worker
def test_a_statement_issued_before_payment_gets_a_paid_version(
    celery_worker_thread, claims, finance, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    claim = claims.accepted("45.00")
    before = ds.issue(kind=DocumentKind.CLAIM_STATEMENT, claim_id=claim.pk, by=finance)
    _pay(claims, finance, claim)
    first, second = _wait_for(claim, 2)
    assert (first.pk, second.version) == (before.pk, 2) and second.reason
    assert issue_settled_statement.delay(claim.pk).get(timeout=60)["id"] == second.pk
    assert _statements(claim).count() == 2


@pytest.mark.django_db
def test_an_unsettled_claim_gets_no_statement_from_the_task(claims, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    claim = claims.accepted("5.00")
    assert ds.issue_settled_statement(claim_id=claim.pk) is None
    assert ds.issue_settled_statement(claim_id=987654) is None
    assert not IssuedDocument.objects.exists()
