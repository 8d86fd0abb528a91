"""seed_demo leaves a paid settlement batch, an open one and a claim statement; a second run adds nothing."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from accounts.roles import ALL_ROLES
from claims.models import Claim, ClaimEvent, ClaimState
from settlements import demo as finance_demo
from settlements.models import (
    BatchState,
    DocumentKind,
    IssuedDocument,
    ItemStatus,
    PaymentImport,
    SettlementBatch,
    SettlementEvent,
)


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups come from a data migration; a transactional test's flush removes them."""
    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.mark.django_db
def test_seed_demo_leaves_a_paid_batch_and_a_statement_and_is_idempotent(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    paid = SettlementBatch.objects.get(note=finance_demo.PAID_NOTE)
    assert paid.state == BatchState.PAID and paid.export_sha256
    item = paid.items.get()
    assert item.status == ItemStatus.PAID and item.payment_reference == f"DEMO-PAY-C{item.claim_id:06d}"
    claim = Claim.objects.get(pk=item.claim_id)
    assert claim.state == ClaimState.SETTLED and claim.payment_reference == item.payment_reference
    assert PaymentImport.objects.filter(batch=paid, paid=1).count() == 1
    assert list(paid.events.values_list("action", flat=True)) == [
        "create",
        "add",
        "add_claims",
        "lock",
        "export",
        "payment",
        "import",
        "complete",
    ]

    open_batch = SettlementBatch.objects.get(note=finance_demo.OPEN_NOTE)
    assert open_batch.state == BatchState.OPEN
    assert {i.claim.state for i in open_batch.items.select_related("claim")} == {ClaimState.ACCEPTED}

    statement = IssuedDocument.objects.get(kind=DocumentKind.CLAIM_STATEMENT, claim=claim)
    assert statement.version == 1 and statement.pages >= 1
    assert statement.file.open("rb").read(5) == b"%PDF-"

    # The claims demo still shows every workflow state (accepted waits in the open batch).
    assert set(Claim.objects.values_list("state", flat=True)) == set(ClaimState.values)

    counts = (
        SettlementBatch.objects.count(),
        SettlementEvent.objects.count(),
        IssuedDocument.objects.count(),
        ClaimEvent.objects.count(),
    )
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (
        SettlementBatch.objects.count(),
        SettlementEvent.objects.count(),
        IssuedDocument.objects.count(),
        ClaimEvent.objects.count(),
    ) == counts
