"""A recompute that reaches its soft time limit halfway through proposing (a big outage on a busy
host) retries at once and finishes with the merchants still without a claim: each proposal, its
creation event, its notification and its e-mail exist exactly once.

Real prefork worker (the pool that enforces time limits) in its own process, on its own queue.
The test makes the batch of a merchant in the middle of the sorted list wait in PostgreSQL, however
long the earlier batches took on a busy machine: either in a statement (an uncommitted claim of
that merchant holds the unique index), which the limit interrupts and rolls back, or in its COMMIT
(its notification's deferred foreign key waits for a lock on the recipient), which the limit must
not cut apart from its e-mails: the batch commits and the task stops right after.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
from celery.result import AsyncResult
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count

from claims.models import Claim, ClaimEvent, ClaimNotification
from claims.tasks import recompute_incident_claims
from losses.models import LossAssessment
from tests.factories import merchants_hit

from .conftest import make_incident

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "surge-soft-limit-test"
MERCHANTS = 90
BATCH = 3
SOFT_LIMIT = 12  # s: long enough for the batches before the held one even on a saturated host


def start_worker(mail_dir, log):
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}",
        "CLAIMS_PROPOSAL_BATCH_SIZE": str(BATCH),
        "CELERY_TASK_ALWAYS_EAGER": "",
        "CONN_MAX_AGE": "0",  # the test database is dropped at the end: keep no idle backend
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    command = [
        *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1"),
        *("-Q", f"{QUEUE},celery", "-l", "WARNING"),  # celery: the e-mail tasks
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stderr=log, stdout=log)


def wait_for_state(result: AsyncResult, states, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result.state in states:
            return result.state
        time.sleep(0.05)
    raise AssertionError(f"task still {result.state} after {timeout} s")


def wait_for_emails(mail_dir, expected, timeout) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        text = "".join(p.read_text() for p in mail_dir.iterdir()) if mail_dir.exists() else ""
        recipients = [line.removeprefix("To: ") for line in text.splitlines() if line.startswith("To: ")]
        if len(recipients) >= expected or time.monotonic() > deadline:
            return recipients
        time.sleep(0.1)


@pytest.mark.parametrize("held_in", ["statement", "commit"])
def test_recompute_stopped_by_its_soft_time_limit_retries_and_proposes_the_rest_exactly_once(held_in, tmp_path):
    from merchants.models import Merchant

    incident = make_incident("SURGE-SOFT-LIMIT")
    merchants = merchants_hit(incident, MERCHANTS)
    order = sorted(m.pk for m in merchants)  # the order of the batches
    held = Merchant.objects.get(pk=order[MERCHANTS // 2])

    from config.celery import app

    with app.connection_for_write() as broker:  # a message an aborted earlier run handed back
        for queue in (QUEUE, "celery"):
            broker.default_channel.queue_purge(queue)
    mail_dir = tmp_path / "mail"
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                if held_in == "statement":
                    Claim.objects.create(
                        incident=incident, merchant=held, currency="CNY", computed_amount=Decimal("1"), origin="system"
                    )
                else:  # a foreign key's check needs a KEY SHARE lock on the row, which FOR UPDATE holds off
                    User.objects.select_for_update().get(memberships__merchant=held)
                holding.set()
                release.wait(SOFT_LIMIT + 90)
                transaction.set_rollback(True)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    worker = start_worker(mail_dir, log)
    try:
        assert holding.wait(30)
        result = recompute_incident_claims.apply_async(
            args=[incident.pk], queue=QUEUE, soft_time_limit=SOFT_LIMIT, time_limit=SOFT_LIMIT + 60
        )
        if held_in == "statement":
            assert wait_for_state(result, {"RETRY", "SUCCESS", "FAILURE"}, timeout=SOFT_LIMIT + 60) == "RETRY"
            release.set()  # the retry may now pass the held merchant
        else:  # the limit is held back until the COMMIT has finished: let it finish once the limit passed
            deadline = time.monotonic() + SOFT_LIMIT + 60
            while "Soft time limit" not in log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            release.set()
            assert wait_for_state(result, {"RETRY", "SUCCESS", "FAILURE"}, timeout=60) == "RETRY"
        stopped = list(Claim.objects.filter(incident=incident).values_list("merchant_id", flat=True))
        summary = result.get(timeout=120)
        sent = wait_for_emails(mail_dir, MERCHANTS, timeout=60)  # one task per batch, after it commits
    finally:
        release.set()
        holder.join(30)
        log.close()
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)

    # Stopped halfway: the batches before the held merchant's were committed, and its own only if
    # the limit came during its COMMIT.
    assert 0 < len(stopped) < MERCHANTS
    assert all(order.index(mid) < MERCHANTS // 2 + BATCH for mid in stopped)
    assert (held.pk in stopped) == (held_in == "commit")
    assert summary["proposed"] == MERCHANTS - len(stopped)  # the retry proposed only the rest

    amounts = dict(
        LossAssessment.objects.filter(incident=incident, is_current=True).values_list("merchant_id", "compensation")
    )
    claims = list(Claim.objects.filter(incident=incident))
    assert sorted(c.merchant_id for c in claims) == sorted(m.pk for m in merchants)
    assert all(c.computed_amount == amounts[c.merchant_id] > 0 for c in claims)
    with transaction.atomic():
        created = ClaimEvent.objects.filter(claim__incident=incident, kind="created")
        assert sorted(r["n"] for r in created.values("claim").annotate(n=Count("id"))) == [1] * MERCHANTS
        notes = ClaimNotification.objects.filter(claim__incident=incident)
        per_pair = notes.values("claim", "recipient").annotate(n=Count("id"))
        assert len(per_pair) == MERCHANTS and all(r["n"] == 1 for r in per_pair)
        assert all(n.recipient.memberships.filter(merchant=n.claim.merchant).exists() for n in notes)

    # Each batch's e-mails go out once it has committed: an interrupted statement's batch sent none,
    # a batch whose COMMIT was waiting sent its own before the task stopped.
    assert sorted(sent) == sorted(
        User.objects.filter(memberships__merchant__in=merchants).values_list("email", flat=True)
    )
