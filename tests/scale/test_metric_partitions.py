"""The per-minute metrics table partitioned by day (PostgreSQL): routing, partitions created
ahead by the beat task, retention that never drops what an open claim window may read, and the
import and the loss engine on the partitioned table."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from claims import services as claim_services
from claims.selectors import earliest_metric_minute_in_use
from core.csv import CsvRejected
from losses.engine import estimate_incident
from merchants.selectors import METRIC_DEFAULT_PARTITION, metric_partition_name, metric_partitions
from merchants.services import create_metric_partitions, import_csv, write_csv
from merchants.tasks import create_metric_partitions as create_task
from tests.factories import MIN, IncidentFactory, LiveSessionFactory, MerchantFactory, proposed_claim, session_minutes

DAY = timedelta(days=1)
HEADER = "session_id,minute,viewers,orders,gmv,ad_spend\n"


def _where() -> dict[datetime, str]:
    """Each stored minute and the partition holding it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT minute, tableoid::regclass::text FROM merchants_sessionminute")
        return dict(cursor.fetchall())


def _days(first: date, last: date) -> list[date]:
    return [first + i * DAY for i in range((last - first).days + 1)]


def _partition_days() -> list[date]:
    return [day for _name, day in metric_partitions()]


@pytest.mark.django_db
def test_rows_land_in_their_days_partition_and_unknown_days_in_the_default():
    LiveSessionFactory(external_id="T-1")
    assert create_metric_partitions(first=date(2026, 11, 2), last=date(2026, 11, 3)) == [
        "merchants_sessionminute_p20261102",
        "merchants_sessionminute_p20261103",
    ]
    text = HEADER + (
        "T-1,2026-11-02T23:59:00Z,1,0,1.00,0\n"
        "T-1,2026-11-03T07:00:00+08:00,1,0,2.00,0\n"  # 2026-11-02 23:00 UTC
        "T-1,2026-11-03T00:00:00Z,1,0,3.00,0\n"
        "T-1,2026-11-05T10:00:00Z,1,0,4.00,0\n"  # no partition for that day yet
    )
    assert import_csv(kind="metrics", source=text.encode()).created == 4
    assert _where() == {
        datetime(2026, 11, 2, 23, 59, tzinfo=UTC): "merchants_sessionminute_p20261102",
        datetime(2026, 11, 2, 23, 0, tzinfo=UTC): "merchants_sessionminute_p20261102",
        datetime(2026, 11, 3, 0, 0, tzinfo=UTC): "merchants_sessionminute_p20261103",
        datetime(2026, 11, 5, 10, 0, tzinfo=UTC): METRIC_DEFAULT_PARTITION,
    }
    # The next run gives the stray day its own partition and moves its row there: nothing lost.
    assert create_metric_partitions(first=date(2026, 11, 2), last=date(2026, 11, 3)) == [
        "merchants_sessionminute_p20261105"
    ]
    assert _where()[datetime(2026, 11, 5, 10, 0, tzinfo=UTC)] == "merchants_sessionminute_p20261105"
    assert len(_where()) == 4
    # The (session, minute) key holds across partitions and the default one.
    again = import_csv(kind="metrics", source=text.replace("4.00", "5.00").encode())
    assert (again.created, again.updated, again.unchanged) == (0, 1, 3)


@pytest.fixture
def drop_created_partitions(transactional_db):
    """A transactional test commits its DDL: drop the day partitions it created afterwards."""
    before = {name for name, _day in metric_partitions()}
    yield
    with connection.cursor() as cursor:
        for name, _day in metric_partitions():
            if name not in before:
                cursor.execute(f"DROP TABLE {name}")


def test_a_beat_run_creates_the_days_ahead_once(celery_worker_thread, drop_created_partitions):
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == create_task.name)
    assert entry["schedule"] <= 24 * 60 * 60  # at least daily: a missed run cannot leave a day without one
    today = datetime.now(UTC).date()
    ahead = settings.METRICS_PARTITION_DAYS_AHEAD
    wanted = [today + i * DAY for i in range(ahead + 1)]
    created = create_task.delay().get(timeout=60)
    assert created == [metric_partition_name(day=day) for day in wanted]
    assert set(wanted) <= set(_partition_days())
    assert create_task.delay().get(timeout=60) == []  # idempotent
    assert set(wanted) <= set(_partition_days())
    assert sum(1 for day in _partition_days() if day in wanted) == len(wanted)


def test_retention_drops_old_days_only_when_every_claim_window_over_them_has_closed(db, settings):
    settings.METRICS_RETENTION_DAYS = 30
    settings.CLAIMS_FILING_WINDOW_DAYS = 30
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    create_metric_partitions(first=date(2026, 9, 1), last=date(2026, 11, 30))
    session = LiveSessionFactory(
        started_at=datetime(2026, 9, 1, tzinfo=UTC), ended_at=datetime(2026, 11, 30, tzinfo=UTC)
    )
    session_minutes(session, datetime(2026, 9, 2, 12, 0, tzinfo=UTC), 3, "1")  # in the day that goes first
    session_minutes(session, datetime(2026, 11, 20, 12, 0, tzinfo=UTC), 3, "1")  # inside the retention

    # An incident of 2026-10-25, resolved 6 days before now: its filing window is open, and its
    # estimate reads its history back to late September.
    incident = IncidentFactory(started_at=datetime(2026, 10, 25, 12, 0, tzinfo=UTC), resolved_ago=6 * DAY, minutes=60)
    incident.started_at, incident.resolved_at = datetime(2026, 10, 25, 12, 0, tzinfo=UTC), now - 6 * DAY
    incident.save(update_fields=["started_at", "resolved_at"])
    in_use = earliest_metric_minute_in_use(now=now)
    assert in_use is not None and in_use < incident.started_at - 28 * DAY
    dropped = claim_services.drop_expired_metrics(now=now)
    assert dropped  # the days before the incident's history went
    # Exactly the days that end before the earliest minute in use went; the incident's history
    # (from 2026-09-27) is kept although it is past the retention.
    assert min(_partition_days()) == in_use.date()
    assert dropped == [metric_partition_name(day=day) for day in _days(date(2026, 9, 1), in_use.date() - DAY)]
    assert date(2026, 9, 27) in _partition_days()
    assert session.minutes.count() == 3
    kept_before = _partition_days()

    # The filing window closes, but a claim on it is still open: nothing more goes.
    later = incident.resolved_at + 31 * DAY
    claim = proposed_claim(incident=incident, merchant=MerchantFactory(code="m2"))
    assert claim_services.drop_expired_metrics(now=later) == []
    assert _partition_days() == kept_before

    # The claim reaches a final state: every day older than the retention goes, newer ones stay.
    type(claim).objects.filter(pk=claim.pk).update(state="withdrawn")
    dropped = claim_services.drop_expired_metrics(now=later)
    assert metric_partition_name(day=date(2026, 10, 25)) in dropped
    cutoff = later - 30 * DAY  # 2026-12-25 12:00 - 30 days: the day of 2026-11-25 is not over by then
    assert cutoff.date() == date(2026, 11, 25)
    assert _partition_days() == [date(2026, 11, 25) + i * DAY for i in range(6)]
    assert not session.minutes.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("policy_version", [1, 2])
def test_the_loss_estimate_is_the_same_with_the_minutes_in_day_partitions(policy_version):
    from losses.models import CompensationPolicy

    CompensationPolicy.objects.get_or_create(version=policy_version, defaults={"loss_model": policy_version})
    start = datetime(2026, 11, 2, 23, 40, tzinfo=UTC)  # across midnight: two day partitions
    incident = IncidentFactory(started_at=start, resolved_ago=DAY, minutes=40)
    incident.started_at, incident.resolved_at = start, start + 40 * MIN
    incident.save(update_fields=["started_at", "resolved_at"])
    merchant = MerchantFactory(code="tea")
    # One session with a pre-incident baseline, one starting with the incident (historical
    # baseline from the merchant's sessions of the previous days).
    live = LiveSessionFactory(merchant=merchant, started_at=start - 60 * MIN, ended_at=start + 120 * MIN)
    session_minutes(live, start - 60 * MIN, 180, lambda i: "20" if 60 <= i < 100 else "100", "1")
    late = LiveSessionFactory(merchant=merchant, started_at=start, ended_at=start + 120 * MIN)
    session_minutes(late, start, 120, lambda i: "10" if i < 40 else "90")
    for back in range(1, 6):
        earlier = LiveSessionFactory(
            merchant=merchant, started_at=start - back * DAY, ended_at=start - back * DAY + 120 * MIN
        )
        session_minutes(earlier, start - back * DAY, 120, "80")
    in_default = estimate_incident(incident, policy_version=policy_version)
    assert set(_where().values()) == {METRIC_DEFAULT_PARTITION}

    created = create_metric_partitions(first=date(2026, 10, 1), last=date(2026, 11, 10))
    assert len(created) == 41
    assert METRIC_DEFAULT_PARTITION not in set(_where().values())
    assert all(name == metric_partition_name(day=minute.date()) for minute, name in _where().items())
    assert len(set(_where().values())) == 7  # 2026-10-28 .. 2026-11-03: every session crosses midnight
    partitioned = estimate_incident(incident, policy_version=policy_version)
    assert partitioned == in_default
    lost = sum(Decimal(line["lost_gmv"]) for r in partitioned for line in r["sessions"])
    assert lost > 0


@pytest.mark.django_db
def test_metrics_import_into_partitions_keeps_all_or_nothing():
    LiveSessionFactory(external_id="T-1")
    create_metric_partitions(first=date(2026, 11, 2), last=date(2026, 11, 2))
    rows = [("T-1", f"2026-11-02T12:{m:02d}:00Z", 1, 0, "1.00", "0") for m in range(50)]
    rows.append(("T-9", "2026-11-02T13:00:00Z", 1, 0, "1.00", "0"))
    with pytest.raises(CsvRejected) as rejected:
        import_csv(kind="metrics", source=write_csv(kind="metrics", rows=rows).encode())
    assert (rejected.value.line, rejected.value.column) == (52, "session_id")
    assert _where() == {}


def test_the_sqlite_demo_migrates_and_imports_without_partitions(tmp_path):
    """The partitioning is PostgreSQL's: on SQLite the same migrations give the (session, minute)
    key, metrics import, and the partition tasks do nothing."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "CELERY_TASK_ALWAYS_EAGER": "1"}
    manage = [sys.executable, str(Path(__file__).resolve().parents[2] / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, capture_output=True)
    script = (
        "from datetime import UTC, date, datetime\n"
        "from merchants.models import LiveSession, Merchant, SessionMinute\n"
        "from merchants.services import create_metric_partitions, drop_metric_partitions, import_csv\n"
        "m = Merchant.objects.create(code='tea', name='Tea')\n"
        "LiveSession.objects.create(merchant=m, external_id='T-1', service_code='rtc-video', region_code='cn-east',"
        " started_at=datetime(2026, 11, 2, tzinfo=UTC))\n"
        "text = 'session_id,minute,viewers,orders,gmv,ad_spend\\nT-1,2026-11-02T12:00:00Z,1,0,1.50,0\\n'\n"
        "print(import_csv(kind='metrics', source=text.encode()).created)\n"
        "print(import_csv(kind='metrics', source=text.replace('1.50', '2.50').encode()).updated)\n"
        "print(SessionMinute.objects.get().gmv)\n"
        "print(create_metric_partitions(first=date(2026, 11, 1), last=date(2026, 11, 3)))\n"
        "print(drop_metric_partitions(before=datetime(2027, 1, 1, tzinfo=UTC)))\n"
    )
    out = subprocess.run([*manage, "shell", "-c", script], env=env, check=True, capture_output=True, text=True)
    assert out.stdout.split("\n")[-6:] == ["1", "1", "2.50", "[]", "[]", ""]


def _reltuples(name: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [name])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_an_import_refreshes_the_statistics_of_the_days_it_wrote_only(django_capture_on_commit_callbacks):
    LiveSessionFactory(external_id="T-1")
    create_metric_partitions(first=date(2026, 11, 2), last=date(2026, 11, 4))
    text = HEADER + "".join(f"T-1,2026-11-0{d}T12:{m:02d}:00Z,1,0,1.00,0\n" for d in (2, 3) for m in range(30))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert import_csv(kind="metrics", source=text.encode()).created == 60
    assert len(callbacks) == 1
    assert _reltuples("merchants_sessionminute_p20261102") == _reltuples("merchants_sessionminute_p20261103") == 30
    assert _reltuples("merchants_sessionminute_p20261104") == -1  # never analysed: not touched
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert import_csv(kind="metrics", source=text.encode()).unchanged == 60
    assert callbacks == []  # nothing written, nothing to analyse
