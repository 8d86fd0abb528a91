"""A real worker is killed (SIGKILL) in the middle of proposing claims to many merchants; a
restarted worker gets the task back from Redis within a minute and finishes it, and every
hit merchant ends up with exactly one proposal, one creation event and one notification per
member: the batches committed before the kill are not written twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count

from claims.models import Claim, ClaimEvent, ClaimNotification
from claims.tasks import recompute_incident_claims
from losses.models import LossAssessment
from tests.factories import merchants_hit

from .conftest import make_incident

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "surge-crash-test"
MERCHANTS = 150


def start_worker():
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
        "TASK_VISIBILITY_TIMEOUT": "10",  # default 120 s (config/settings.py)
        "CLAIMS_PROPOSAL_BATCH_SIZE": "3",  # many small batches: the kill lands between two
        "CELERY_TASK_ALWAYS_EAGER": "",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", QUEUE, "-l", "WARNING"]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def test_worker_killed_halfway_through_proposals_is_finished_by_a_restarted_worker_exactly_once(make_user):
    incident = make_incident("SURGE-CRASH")
    merchants_hit(incident, MERCHANTS)

    first = start_worker()
    second = None
    try:
        result = recompute_incident_claims.apply_async(args=[incident.pk], queue=QUEUE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            made = Claim.objects.filter(incident=incident).count()
            if made:
                break
            time.sleep(0.01)
        os.killpg(first.pid, signal.SIGKILL)  # kill -9, mid-task
        killed_at = time.monotonic()
        first.wait(10)
        at_kill = Claim.objects.filter(incident=incident).count()
        assert 0 < at_kill < MERCHANTS, at_kill  # some batches committed, not all

        second = start_worker()
        summary = result.get(timeout=90)
        assert time.monotonic() - killed_at < 60
    finally:
        stop(first)
        if second is not None:
            stop(second)

    assert summary["proposed"] == MERCHANTS - at_kill  # the retry proposed only the rest
    claims = Claim.objects.filter(incident=incident)
    assert claims.count() == MERCHANTS
    amounts = dict(
        LossAssessment.objects.filter(incident=incident, is_current=True).values_list("merchant_id", "compensation")
    )
    assert all(c.computed_amount == amounts[c.merchant_id] > 0 for c in claims)
    created = (
        ClaimEvent.objects.filter(claim__incident=incident, kind="created").values("claim").annotate(n=Count("id"))
    )
    assert sorted(row["n"] for row in created) == [1] * MERCHANTS
    notes = (
        ClaimNotification.objects.filter(claim__incident=incident).values("claim", "recipient").annotate(n=Count("id"))
    )
    assert len(notes) == MERCHANTS and all(row["n"] == 1 for row in notes)
    assert all(
        n.recipient.memberships.filter(merchant=n.claim.merchant).exists() for n in ClaimNotification.objects.all()
    )
