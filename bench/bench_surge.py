# ruff: noqa: E402 - the mail backend is chosen before Django starts (in _setup)
"""After a large outage: proposals to thousands of hit merchants, and webhook ingest under load.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/claims_x CELERY_BROKER_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python bench/bench_surge.py [--port 8105] [--rates 25,50,100,150] [--seconds 10]
        [--sizes 2000,10000] [--baseline-sizes 2000] [--workers 3] [--threads 4]

Runs on a throw-away ``bench_<name>`` database (bench/_setup.py), with a real Celery worker and
gunicorn started here on loopback (both stopped at the end; the calibration site on port + 1).
Loads, not measured: 10,000 merchants with one member each, and one 60-minute live session per
merchant and run. Gunicorn runs 3 workers x 4 threads, sized for 2 cores.

2. Proposals. For 2,000 and 10,000 hit merchants, an incident is resolved and its claims
   recomputed; another connection polls the claims table. Printed: time until the first
   proposal is visible and until all are. Baseline in the same run: the previous algorithm (one
   ``services.propose`` per merchant, 4 statements each, one transaction) on an identical
   incident, run in this process (only for ``--baseline-sizes``: it takes many minutes for
   10,000). Calibration in the same run: one raw ``INSERT … SELECT`` of as many claim rows
   (rolled back), the floor of writing them on this host at that moment.
1. Webhooks. Signed monitoring updates at rising open-loop rates (a bounded pool of 64 client
   threads; latency counted from each request's scheduled send time, so a slow server is not
   hidden by a slower client): accepted/s, p50/p99, and the Celery backlog left and its drain
   time. Each update changes one of 40 incidents (a fan-out to the SLA and claims recomputes).
   Baseline in the same run: the same requests repeating the last state (accepted as
   "unchanged", no fan-out), which is the cost of verifying and parsing alone. Calibration in
   the same run: a one-view Django site (``_minimal_site.py``: same settings and middleware, the
   view only reads the body) under the same offered load.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

MAIL = {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}  # no SMTP server here
os.environ.update(MAIL)

import _setup  # noqa: F401
from django.contrib.auth.models import User
from django.db import connection, connections, transaction
from django.utils import timezone

from claims import services
from claims.models import Claim
from claims.tasks import recompute_incident_claims
from incidents.models import Incident, Provider, Region, Service, WebhookSource
from incidents.services import webhook_signature
from losses.engine import assess_incident
from merchants.models import LiveSession, Membership, Merchant
from merchants.services import analyze

ROOT = _setup.ROOT
SIZES = [2_000, 10_000]  # hit merchants (--sizes)
BASELINE_SIZES = [2_000]  # the previous algorithm takes many minutes for 10,000 (--baseline-sizes)
SECRET = "bench-surge-secret"
INCIDENTS = 40


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def child_env(**extra) -> dict:
    return {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "0", "CELERY_TASK_ALWAYS_EAGER": "", **MAIL, **extra}


def start(command, **extra):
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=child_env(**extra),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


# --- data ----------------------------------------------------------------------------------


def load(runs, merchant_count):
    """Merchants with one member each; per run a session on its own day for the first N merchants."""
    provider = Provider.objects.create(name="Bench RTC", kind="rtc")
    service = Service.objects.create(provider=provider, code="rtc-video", name="RTC video")
    region = Region.objects.create(code="cn-east", name="East China")
    merchants = Merchant.objects.bulk_create(
        [Merchant(code=f"bench-{i:05d}", name=f"Shop {i}", currency="CNY") for i in range(merchant_count)],
        batch_size=2000,
    )
    users = User.objects.bulk_create(
        [User(username=f"bench-{i:05d}", email=f"shop{i}@example.com", password="!") for i in range(merchant_count)],
        batch_size=2000,
    )
    Membership.objects.bulk_create(
        [Membership(user=u, merchant=m) for u, m in zip(users, merchants, strict=True)], batch_size=2000
    )
    incidents = {}
    for name, size, start_at in runs:
        LiveSession.objects.bulk_create(
            [
                LiveSession(
                    merchant=m,
                    external_id=f"{name}-{i}",
                    service_code="rtc-video",
                    region_code="cn-east",
                    started_at=start_at - timedelta(minutes=30),
                    ended_at=start_at + timedelta(minutes=30),
                )
                for i, m in enumerate(merchants[:size])
            ],
            batch_size=2000,
        )
        incident = Incident.objects.create(
            source="bench",
            external_id=name,
            title=f"Outage {name}",
            service=service,
            impact="major_outage",
            cause="provider",
            state="resolved",
            started_at=start_at,
            detected_at=start_at,
            resolved_at=start_at + timedelta(minutes=20),
        )
        incident.regions.add(region)
        incidents[name] = incident
    with connection.cursor() as cursor:  # 100/min before and after, 20/min during the outage
        cursor.execute(
            """
            INSERT INTO merchants_sessionminute (session_id, minute, viewers, orders, gmv, ad_spend)
            SELECT s.id, g, 50, 1,
                   CASE WHEN g >= s.started_at + interval '30 minutes'
                         AND g < s.started_at + interval '50 minutes' THEN 20 ELSE 100 END, 1
            FROM merchants_livesession s
            CROSS JOIN generate_series(s.started_at, s.ended_at - interval '1 minute', interval '1 minute') g
            """
        )
    analyze(tables=["merchants_merchant", "merchants_membership", "auth_user", "merchants_livesession"])
    analyze(tables=["merchants_sessionminute"])
    return service, region, incidents


# --- 1. proposals --------------------------------------------------------------------------


def baseline_sync(incident):
    """The previous algorithm: every proposal through ``services.propose``, in one transaction."""
    with transaction.atomic():
        for a in assess_incident(incident):
            if a.compensation > 0:
                services.propose(incident=incident, merchant=a.merchant, amount=a.compensation, currency=a.currency)
    connections.close_all()


def watch(incident, expected, started, timeout=1800):
    """Poll (from this thread's own connection) until ``expected`` claims exist; (first, all) in s."""
    first = None
    deadline = started + timeout
    while time.monotonic() < deadline:
        made = Claim.objects.filter(incident=incident).count()
        now = time.monotonic()
        if made and first is None:
            first = now - started
        if made >= expected:
            return first, now - started
        time.sleep(0.02)
    raise SystemExit(f"{incident.external_id}: only {made} of {expected} proposals after {timeout} s")


def calibrate_insert(source, target) -> float:
    """Seconds for one raw ``INSERT … SELECT`` copying ``source``'s claim rows to ``target`` (rolled
    back): the floor of writing that many claims on this host at this moment."""
    columns = [f.column for f in Claim._meta.concrete_fields if not f.primary_key and f.column != "incident_id"]
    listed = ", ".join(f'"{c}"' for c in columns)
    started = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO claims_claim ("incident_id", {listed}) '  # noqa: S608 - names from the model
                f"SELECT %s, {listed} FROM claims_claim WHERE incident_id = %s",
                [target.pk, source.pk],
            )
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys checked as a COMMIT would
        elapsed = time.monotonic() - started
        transaction.set_rollback(True)
    return elapsed


def bench_proposals(incidents, calibration):
    print("\n2. Proposals after resolving an incident (real worker; baseline: per-merchant, one transaction)")
    print("   calibration: one raw INSERT … SELECT of as many claim rows, in the same run")
    print(
        f"{'hit merchants':>14} {'first: base':>12} {'first: new':>11} {'all: base':>10} {'all: new':>9} "
        f"{'speed-up':>9} {'raw insert':>11} {'all new / raw':>14}"
    )
    for size in SIZES:
        b_first = b_all = float("nan")
        if size in BASELINE_SIZES:
            base = incidents[f"base-{size}"]
            started = time.monotonic()
            runner = threading.Thread(target=baseline_sync, args=(base,))
            runner.start()
            b_first, b_all = watch(base, size, started)
            runner.join()

        new = incidents[f"new-{size}"]
        started = time.monotonic()
        result = recompute_incident_claims.delay(new.pk)
        n_first, n_all = watch(new, size, started)
        result.get(timeout=600)
        raw = calibrate_insert(new, calibration)
        print(
            f"{size:>14,} {b_first:>11.2f}s {n_first:>10.2f}s {b_all:>9.2f}s {n_all:>8.2f}s {b_all / n_all:>8.1f}x "
            f"{raw:>10.3f}s {n_all / raw:>13.0f}x"
        )


# --- 2. webhooks ---------------------------------------------------------------------------


def payload(i, n, changing):
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(hours=2)
    resolved = start + timedelta(minutes=30 + (n % 50 if changing else 0))
    return {
        "external_id": f"WH-{i}",
        "title": f"Monitored outage {i}",
        "provider": "Bench RTC",
        "service": "rtc-video",
        "regions": ["cn-east"],
        "impact": "major_outage",
        "cause": "provider",
        "started_at": start.isoformat(),
        "detected_at": start.isoformat(),
        "resolved_at": resolved.isoformat(),
    }


def post(url, body: bytes):
    stamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Incident-Source": "bench",
            "X-Incident-Timestamp": stamp,
            "X-Incident-Signature": webhook_signature(secret=SECRET, timestamp=stamp, body=body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def ladder_step(url, rate, seconds, changing, offset):
    total = int(rate * seconds)
    latencies, statuses = [], []
    lock = threading.Lock()
    t0 = time.monotonic() + 0.2

    def one(n):
        scheduled = t0 + n / rate
        body = json.dumps(payload(n % INCIDENTS, offset + n, changing)).encode()
        status = post(url, body)
        with lock:
            latencies.append(time.monotonic() - scheduled)
            statuses.append(status)

    with ThreadPoolExecutor(max_workers=64) as pool:
        for n in range(total):
            delay = t0 + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, n)
    elapsed = time.monotonic() - t0
    ok = sum(1 for s in statuses if 200 <= s < 300)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return ok / elapsed, statistics.median(latencies), p99, total - ok


def backlog(client) -> int:
    return client.llen("celery")


def drain(client, timeout=180):
    started = time.monotonic()
    while backlog(client) and time.monotonic() - started < timeout:
        time.sleep(0.2)
    return time.monotonic() - started, backlog(client)


def gunicorn(app, port, workers, threads):
    # The webhook throttle (API_RATE_WEBHOOK, default 300/min per source and address) would refuse
    # most of a one-source load generator's requests: measured here is the server, not the limit.
    return start(
        [
            *(sys.executable, "-m", "gunicorn", app, "-b", f"127.0.0.1:{port}"),
            *("-w", str(workers), "--threads", str(threads), "--pythonpath", str(ROOT / "bench")),
        ],
        API_RATE_WEBHOOK="1000000/min",
    )


def wait_up(port):
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2)  # noqa: S310 - loopback
            return
        except OSError:
            time.sleep(0.2)


def bench_webhooks(port, rates, seconds, workers, threads):
    import redis
    from django.conf import settings

    from sla.models import SLAContract

    WebhookSource.objects.create(name="bench", secret=SECRET)
    contract = SLAContract.objects.create(
        code="BENCH-RTC",
        version=1,
        provider=Provider.objects.get(name="Bench RTC"),
        currency="CNY",
        monthly_fee=Decimal("200000.00"),
        effective_from=timezone.localdate() - timedelta(days=400),
        availability_target=Decimal("99.95"),
        partial_outage_weight=Decimal("0.5"),
        degraded_weight=Decimal("0"),
        maintenance_notice_hours=48,
        credit_tiers=[{"below": "99.95", "credit_percent": "10"}],
        recovery_targets=[],
        first_response_minutes=15,
        claim_window_days=30,
    )
    contract.services.set(Service.objects.filter(code="rtc-video"))
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    url = f"http://127.0.0.1:{port}/api/incidents/webhook/"
    server = gunicorn("config.wsgi", port, workers, threads)
    minimal = gunicorn("_minimal_site:application", port + 1, workers, threads)
    minimal_url = f"http://127.0.0.1:{port + 1}/api/incidents/webhook/"
    try:
        wait_up(port)
        wait_up(port + 1)
        for i in range(INCIDENTS):  # monitoring opened these incidents earlier
            post(url, json.dumps(payload(i, 0, changing=False)).encode())
        drain(client)
        results = []
        offset = 1
        for rate in rates:
            accepted, p50, p99, failed = ladder_step(minimal_url, rate, seconds, False, 0)
            row = [rate, (accepted, p50, p99, failed)]
            for changing in (False, True):
                accepted, p50, p99, failed = ladder_step(url, rate, seconds, changing, offset)
                offset += int(rate * seconds)
                left = backlog(client)
                drained, remaining = drain(client)
                row.append((accepted, p50, p99, failed, left, drained, remaining))
            results.append(row)
    finally:
        stop(server)
        stop(minimal)
    print(f"\n1. Webhook ingest, {seconds} s per rate (gunicorn {workers} workers x {threads} threads, a real worker)")
    print("   calibration: a one-view Django site (same settings and middleware) that only reads the body")
    print("   baseline: re-deliveries of the last state (no change, no fan-out); new: each update changes an incident")
    print(
        f"{'offered/s':>9} | {'calib/s':>7} {'p99 ms':>7} | {'base/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'fail':>5} | "
        f"{'new/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'fail':>5} {'backlog':>7} {'drained in':>10} "
        f"| {'new/calib':>9}"
    )
    for rate, calib, base, new in results:
        print(
            f"{rate:>9} | {calib[0]:>7.1f} {calib[2] * 1000:>7.0f} | "
            f"{base[0]:>6.1f} {base[1] * 1000:>7.0f} {base[2] * 1000:>7.0f} {base[3]:>5} | "
            f"{new[0]:>6.1f} {new[1] * 1000:>7.0f} {new[2] * 1000:>7.0f} {new[3]:>5} {new[4]:>7} "
            f"{new[5]:>9.1f}s | {new[0] / calib[0]:>8.2f}x"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8105)
    parser.add_argument("--rates", default="25,50,100,150")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--sizes", default="2000,10000", help="hit merchants per proposal run")
    parser.add_argument("--baseline-sizes", default="2000", help="sizes also run with the previous algorithm")
    parser.add_argument("--skip-proposals", action="store_true")
    parser.add_argument("--skip-webhooks", action="store_true")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes (2 cores: 3)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    args = parser.parse_args()
    SIZES[:] = [int(n) for n in args.sizes.split(",")]
    BASELINE_SIZES[:] = [int(n) for n in args.baseline_sizes.split(",") if n]

    day = timezone.now().replace(minute=0, second=0, microsecond=0)
    runs = [
        (f"{kind}-{size}", size, day - timedelta(days=2 * n + (kind == "new") + 1))
        for n, size in enumerate(SIZES)
        for kind in ("base", "new")
        if kind == "new" or size in BASELINE_SIZES
    ]
    started = time.monotonic()
    service, region, incidents = load(runs, max(SIZES))
    calibration = Incident.objects.create(
        source="bench",
        external_id="calibration",
        title="Calibration",
        service=service,
        state="resolved",
        impact="major_outage",
        cause="provider",
        started_at=day,
        detected_at=day,
        resolved_at=day,
    )
    print(
        f"Loaded {max(SIZES):,} merchants and {sum(s for _, s, _ in runs):,} sessions in "
        f"{time.monotonic() - started:.0f} s (not measured)"
    )

    from config.celery import app

    app.control.purge()
    worker = start([sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "WARNING", "--concurrency=2"])
    try:
        time.sleep(3)
        if not args.skip_webhooks:
            bench_webhooks(args.port, [int(r) for r in args.rates.split(",")], args.seconds, args.workers, args.threads)
        if not args.skip_proposals:
            bench_proposals(incidents, calibration)
    finally:
        stop(worker)
        connections.close_all()


if __name__ == "__main__":
    main()
