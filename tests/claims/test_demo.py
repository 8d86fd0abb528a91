"""seed_demo leaves claims in every workflow state, and running it again duplicates nothing."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from claims.models import Claim, ClaimEvent, ClaimState


@pytest.mark.django_db
def test_seed_demo_has_every_state_and_is_idempotent(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    states = set(Claim.objects.values_list("state", flat=True))
    assert states == set(ClaimState.values)
    assert Claim.objects.filter(pending_amount__isnull=False).exists()  # waiting for a second approval
    assert Claim.objects.filter(dispute_count=1, state=ClaimState.APPROVED).exists()  # final decision
    # One submitted claim is overdue, with deadlines consistent with its submission time.
    overdue = Claim.objects.get(state=ClaimState.SUBMITTED, due_at__lt=timezone.now())
    assert overdue.first_response_due_at == overdue.submitted_at + timedelta(hours=24)
    assert overdue.events.get(to_state=ClaimState.SUBMITTED).created_at == overdue.submitted_at
    counts = (Claim.objects.count(), ClaimEvent.objects.count())
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (Claim.objects.count(), ClaimEvent.objects.count()) == counts
