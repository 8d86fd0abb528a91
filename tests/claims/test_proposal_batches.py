"""A proposal batch is one INSERT … SELECT on PostgreSQL and ORM inserts on the SQLite demo: both
write the same claims, events and notifications, skip merchants that already have a claim, and
queue the batch's e-mails once it commits."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction

from claims import services
from claims.models import Claim, ClaimEvent, ClaimNotification
from losses.engine import assess_incident
from tests.factories import MerchantFactory, UserFactory

from .conftest import hit, make_incident

pytestmark = pytest.mark.django_db


def world(tag):
    """An incident that hit three merchants: one with two members (one inactive), one with none."""
    incident = make_incident(f"BATCH-{tag}")
    merchants = [MerchantFactory(code=f"{tag}-{i}", name=f"Shop 100% {i}") for i in range(3)]
    UserFactory(username=f"{tag}-a", roles=["merchant"], merchants=[merchants[0]])
    UserFactory(username=f"{tag}-b", roles=["merchant"], merchants=[merchants[0]])
    UserFactory(username=f"{tag}-c", roles=["merchant"], merchants=[merchants[1]], is_active=False)
    for i, merchant in enumerate(merchants):
        hit(incident, merchant, sid=f"{tag}-LS-{i}")
    assess_incident(incident)
    return incident, merchants


def written(incident):
    """What a batch wrote, without ids and times (they differ between the two incidents)."""
    claims = Claim.objects.filter(incident=incident).order_by("merchant__code")
    rows = []
    for c in claims:
        event = ClaimEvent.objects.get(claim=c)
        notes = ClaimNotification.objects.filter(claim=c).order_by("recipient__username")
        rows.append(
            (
                c.merchant.code.split("-")[1],
                c.state,
                c.origin,
                c.currency,
                c.computed_amount,
                c.expires_at,
                (event.kind, event.action, event.actor_role, event.to_state, event.computed_amount, event.currency),
                [
                    (
                        n.recipient.username.split("-")[1],
                        n.event_id == event.pk,
                        n.subject == f"Claim #{c.pk} for {c.merchant.name}",
                    )
                    for n in notes
                ],
            )
        )
    return rows


def test_set_based_and_one_by_one_batches_write_the_same_rows(django_capture_on_commit_callbacks):
    sql_incident, sql_merchants = world("sql")
    orm_incident, orm_merchants = world("orm")
    now = sql_incident.resolved_at + timedelta(hours=1)
    expires = services._proposal_expiry(sql_incident, now)
    subject = "Claim #%(id)s for %(merchant)s"  # the merchant's name has a % of its own
    with django_capture_on_commit_callbacks(execute=True):
        first = services._insert_proposals(
            incident=sql_incident, merchant_ids=[m.pk for m in sql_merchants[:2]], expires=expires, subject=subject
        )
        again = services._insert_proposals(
            incident=sql_incident, merchant_ids=[m.pk for m in sql_merchants], expires=expires, subject=subject
        )
        services._insert_proposals_one_by_one(
            incident=orm_incident, merchant_ids=[m.pk for m in orm_merchants[:2]], expires=expires, subject=subject
        )
        services._insert_proposals_one_by_one(
            incident=orm_incident, merchant_ids=[m.pk for m in orm_merchants], expires=expires, subject=subject
        )
    assert {mid for _, mid, _ in first} == {m.pk for m in sql_merchants[:2]}
    assert {mid for _, mid, _ in again} == {sql_merchants[2].pk}  # the first two already had a claim
    rows = written(sql_incident)
    assert rows == written(orm_incident)
    assert [len(r[-1]) for r in rows] == [2, 0, 0]  # active members only


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_batch_queues_its_emails_once_it_commits(celery_worker_thread):
    incident, merchants = world("mail")
    with transaction.atomic():
        proposed = services.propose_batch(incident=incident, merchant_ids=[m.pk for m in merchants])
        time.sleep(0.5)  # a task queued too early would have run by now
        assert mail.outbox == []  # nothing before the commit
    assert proposed == sorted(m.pk for m in merchants)
    deadline = time.monotonic() + 30
    while len(mail.outbox) < 2 and time.monotonic() < deadline:  # the worker sends them
        time.sleep(0.05)
    assert sorted(m.to[0] for m in mail.outbox) == ["mail-a@example.com", "mail-b@example.com"]
    assert all("Shop 100% 0" in m.body for m in mail.outbox)
