"""Benchmark: claim settlement statements (PDF) per second through real Celery workers.

Creates a throw-away database (``bench_<DATABASE_URL name>_statements``,
prefix from ``BENCH_DATABASE_PREFIX``) with N accepted
claims (default 1,000; ``BENCH_N``), each with a loss assessment, one live session and 150
minutes of metrics (so each statement draws its SVG chart). Then, with one worker
process (``celery -A config worker -c 1`` against Redis, on a private queue, started and
stopped by this script), it queues one ``issue_document`` task per claim and measures the wall
time until every result is back: before (``PDF_FONT_SUBSET=0``, the full CJK font subset per
document) and now (the pre-built subset font), alternated ``BENCH_ROUNDS`` times (default 2),
then once with two processes (``BENCH_TWO_WORKERS=0`` skips it). A warm-up of 2 tasks per process
(font loading) runs before the clock starts. Files go to a temporary MEDIA_ROOT.

Usage: DATABASE_URL=postgres://... [CELERY_BROKER_URL=redis://127.0.0.1:6379/10] \
       .venv/bin/python bench/bench_statements.py
"""

import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/10")
os.environ.setdefault("CELERY_RESULT_BACKEND", os.environ["CELERY_BROKER_URL"])
MEDIA = tempfile.mkdtemp(prefix="bench-statements-")
os.environ["MEDIA_ROOT"] = MEDIA

import django  # noqa: E402

django.setup()

from _dbname import bench_database_name  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

N = int(os.environ.get("BENCH_N", "1000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
QUEUE = f"bench-statements-{uuid.uuid4().hex[:6]}"
T0 = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def populate(n):
    from django.contrib.auth.models import Group, User

    from claims.models import Claim, ClaimState
    from incidents.models import Incident, Provider, Region, Service
    from losses.models import LossAssessment, LossAssessmentLine
    from losses.policy import active_policy
    from merchants.models import LiveSession, Merchant, SessionMinute

    finance = User.objects.create_user("bench-finance")
    finance.groups.add(Group.objects.get(name="finance"))
    provider = Provider.objects.create(name="Bench RTC 实时音视频", kind="rtc")
    service = Service.objects.create(provider=provider, code="rtc-video", name="RTC video")
    region = Region.objects.create(code="cn-east", name="East China")
    per_incident = 20
    incidents = []
    for i in range((n + per_incident - 1) // per_incident):
        start = T0 + timedelta(hours=3 * i)
        inc = Incident.objects.create(
            source="bench",
            external_id=f"B-{i}",
            title=f"推流中断 ingest outage {i}",
            service=service,
            impact="major_outage",
            cause="provider",
            state="resolved",
            started_at=start,
            detected_at=start,
            resolved_at=start + 30 * MIN,
        )
        inc.regions.add(region)
        incidents.append(inc)
    merchants = Merchant.objects.bulk_create(
        [Merchant(code=f"bm{i:03d}", name=f"商户 {i} Shop", currency="CNY") for i in range(per_incident)]
    )
    policy = active_policy()
    claims, minutes, lines = [], [], []
    for k in range(n):
        inc, m = incidents[k // per_incident], merchants[k % per_incident]
        s = LiveSession.objects.create(
            merchant=m,
            external_id=f"BS-{k}",
            service_code="rtc-video",
            region_code="cn-east",
            started_at=inc.started_at - 60 * MIN,
            ended_at=inc.started_at + 90 * MIN,
        )
        minutes += [
            SessionMinute(
                session=s,
                minute=inc.started_at + (j - 60) * MIN,
                gmv=Decimal("20.00") if 0 <= j - 60 < 30 else Decimal("100.00"),
            )
            for j in range(150)
        ]
        a = LossAssessment.objects.create(
            incident=inc,
            merchant=m,
            policy=policy,
            currency="CNY",
            cause="provider",
            margin_rate=Decimal("0.3"),
            responsibility_percent=Decimal("100"),
            lost_gmv=Decimal("2400"),
            lost_profit=Decimal("720"),
            wasted_ad_spend=Decimal("0"),
            compensation_before_pool=Decimal("720.00"),
            compensation=Decimal("720.00"),
            inputs={},
            inputs_fingerprint=f"bench{k}",
            computed_at=inc.resolved_at,
            first_computed_at=inc.resolved_at,
        )
        lines.append(
            LossAssessmentLine(
                assessment=a,
                session=s,
                window_start=inc.started_at,
                window_end=inc.started_at + 40 * MIN,
                affected_minutes=40,
                minutes_with_data=40,
                data_coverage=Decimal("1"),
                baseline_method="pre_incident",
                baseline_minutes=30,
                baseline_gmv_sum=Decimal("3000"),
                baseline_gmv_per_minute=Decimal("100"),
                actual_gmv=Decimal("1600"),
                lost_gmv=Decimal("2400"),
                lost_profit=Decimal("720"),
                wasted_ad_spend=Decimal("0"),
            )
        )
        claims.append(
            Claim(
                incident=inc,
                merchant=m,
                origin="system",
                currency="CNY",
                computed_amount=Decimal("720.00"),
                approved_amount=Decimal("720.00"),
                decision_reason="loss_confirmed",
                decision_message="与指标一致",
                decided_at=inc.resolved_at + timedelta(days=1),
                state=ClaimState.ACCEPTED,
            )
        )
        if len(minutes) > 20000:
            SessionMinute.objects.bulk_create(minutes)
            minutes = []
    SessionMinute.objects.bulk_create(minutes)
    LossAssessmentLine.objects.bulk_create(lines)
    Claim.objects.bulk_create(claims)
    return finance, list(Claim.objects.order_by("pk").values_list("pk", flat=True))


def start_worker(concurrency, db_url, subset=True):
    env = dict(
        os.environ,
        DATABASE_URL=db_url,
        MEDIA_ROOT=MEDIA,
        CELERY_TASK_ALWAYS_EAGER="0",
        LOG_LEVEL="WARNING",
        PDF_FONT_SUBSET="1" if subset else "0",
    )
    name = f"bench-c{concurrency}-{uuid.uuid4().hex[:4]}@%h"
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/celery"), "-A", "config", "worker", "-c", str(concurrency), "--pool", "prefork",
         "-Q", QUEUE, "-n", name, "--without-gossip", "--without-mingle", "-l", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    return proc


def run(concurrency, claim_ids, finance, db_url, subset=True):
    from settlements.tasks import issue_document

    proc = start_worker(concurrency, db_url, subset)
    try:
        tag = f"bench c={concurrency} {uuid.uuid4().hex[:6]}"
        warm = [
            issue_document.apply_async(
                ("claim_statement",), {"claim_id": cid, "user_id": finance.pk, "reason": tag + " warm-up"}, queue=QUEUE
            )
            for cid in claim_ids[: 2 * concurrency]
        ]
        for r in warm:
            r.get(timeout=120)
        started = time.perf_counter()
        results = [
            issue_document.apply_async(
                ("claim_statement",), {"claim_id": cid, "user_id": finance.pk, "reason": tag}, queue=QUEUE
            )
            for cid in claim_ids
        ]
        pages = 0
        for r in results:
            pages += r.get(timeout=1800)["pages"]
        elapsed = time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return elapsed, pages


def main():
    name = settings.DATABASES["default"]["NAME"]
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("Run the benchmark with DATABASE_URL=postgres://…")
    settings.DATABASES["default"].setdefault("TEST", {})
    settings.DATABASES["default"]["TEST"]["NAME"] = bench_database_name(name, "statements")
    old = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    db = settings.DATABASES["default"]
    db_url = f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    try:
        t = time.perf_counter()
        finance, claim_ids = populate(N)
        print(f"populated {len(claim_ids)} accepted claims in {time.perf_counter() - t:.1f} s", flush=True)
        from settlements.models import IssuedDocument

        # Before (PDF_FONT_SUBSET=0: WeasyPrint subsets the full 19 MB CJK font for every
        # statement) and now (the pre-built subset), alternated, one worker process each.
        best = {}
        for _ in range(ROUNDS):
            for subset in (False, True):
                elapsed, pages = run(1, claim_ids, finance, db_url, subset)
                rate = len(claim_ids) / elapsed
                best[subset] = max(best.get(subset, 0), rate)
                label = "now (subset font)" if subset else "before (full font)"
                print(
                    f"worker -c 1, {label:<19}: {len(claim_ids)} statements ({pages} pages) in {elapsed:.1f} s "
                    f"= {rate:.1f} statements/s",
                    flush=True,
                )
        print(
            f"statements/s per worker, best of {ROUNDS}: now {best[True]:.1f} | before {best[False]:.1f}"
            f" -> {best[True] / best[False]:.2f}x",
            flush=True,
        )
        if os.environ.get("BENCH_TWO_WORKERS", "1") == "1":
            elapsed, pages = run(2, claim_ids, finance, db_url)
            print(
                f"worker -c 2, now: {len(claim_ids)} statements ({pages} pages) in {elapsed:.1f} s "
                f"= {len(claim_ids) / elapsed:.1f} statements/s",
                flush=True,
            )
        docs = IssuedDocument.objects.count()
        print(f"issued document versions stored: {docs} (files under {MEDIA})")
    finally:
        connection.creation.destroy_test_db(old, verbosity=0)
        subprocess.run(["rm", "-rf", MEDIA], check=False)


if __name__ == "__main__":
    main()
