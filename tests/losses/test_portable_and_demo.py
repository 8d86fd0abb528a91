"""The portable (SQLite demo) path gives the same aggregates as the PostgreSQL query; boundaries; demo."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest

from losses.aggregates import session_aggregates, session_aggregates_portable
from losses.engine import assess_incident, compute, estimate_incident, window_for
from losses.policy import active_policy
from merchants import demo as merchants_demo
from merchants.models import LiveSession, SessionMinute

from .conftest import MIN, T0
from .test_engine import standard_session

pytestmark = pytest.mark.usefixtures("v1_active")  # loss model v1's rules


def test_pre_incident_with_exactly_ten_minutes(f):
    m = f.merchant()
    hit = f.session(m, "hit", T0 - 10 * MIN, T0 + 40 * MIN)
    f.metrics(hit, T0 - 10 * MIN, 50, lambda i: "80" if i < 10 else "20")
    line = estimate_incident(f.incident())[0]["sessions"][0]
    assert (line["baseline_method"], Decimal(line["baseline_gmv_per_minute"])) == ("pre_incident", 80)


def test_pre_incident_window_is_thirty_minutes(f):
    m = f.merchant()
    hit = f.session(m, "hit", T0 - 60 * MIN, T0 + 40 * MIN)
    # minutes T0-60..T0-31 sell 1000 (outside the window), T0-30..T0-1 sell 50
    f.metrics(hit, T0 - 60 * MIN, 100, lambda i: "1000" if i < 30 else "50" if i < 60 else "0")
    agg = compute(f.incident()).merchants[0].lines[0].agg
    assert (agg.method, agg.baseline_n, agg.baseline_s) == ("pre_incident", 30, Decimal("1500.00"))


def test_portable_path_matches_postgresql(f):
    m1, m2 = f.merchant("a"), f.merchant("b", margin=Decimal("0.5"))
    standard_session(f, m1, "A1")
    s = f.session(m1, "A2", T0 - 5 * MIN, None)  # live, no pre data -> historical
    f.metrics(s, T0 - 5 * MIN, 50, lambda i: str(i * 3), skip={7, 8, 9})
    old = f.session(m1, "A-old", T0 - timedelta(days=3), T0 - timedelta(days=3) + 90 * MIN)
    f.metrics(old, T0 - timedelta(days=3), 90, lambda i: str(100 + i))
    standard_session(f, m2, "B1", region="cn-north", during="0")
    earlier = f.incident(T0 - 20 * MIN, T0 + 5 * MIN, regions=("cn-north",))
    assess_incident(earlier, now=T0 + timedelta(hours=1))  # claims part of B1's minutes
    f.incident(T0 - timedelta(days=3) + 10 * MIN, T0 - timedelta(days=3) + 20 * MIN)  # masks A-old minutes
    incident = f.incident(T0, T0 + 25 * MIN, regions=("cn-east", "cn-north"))
    window = window_for(incident, active_policy(), now=T0 + timedelta(hours=2))
    sql = session_aggregates(window)
    portable = session_aggregates_portable(window)
    assert [a.external_id for a in sql] == ["A1", "A2", "B1"]
    assert sql == portable
    assert {a.external_id: a.method for a in sql} == {"A1": "pre_incident", "A2": "historical", "B1": "pre_incident"}
    assert next(a for a in sql if a.external_id == "B1").excluded == 15


def test_merchant_demo_is_idempotent_and_small(db):
    out = io.StringIO()
    merchants_demo.seed(out)
    sessions, minutes = LiveSession.objects.count(), SessionMinute.objects.count()
    assert sessions > 50 and 10_000 < minutes <= 50_000
    services = set(LiveSession.objects.values_list("service_code", flat=True))
    regions = set(LiveSession.objects.values_list("region_code", flat=True))
    assert services == {"rtc-video", "cdn-live"} and regions == {"cn-east", "cn-north", "cn-south"}
    first = LiveSession.objects.order_by("started_at").first().started_at
    assert (first.year, first.month) == (2026, 10)
    snapshot = list(SessionMinute.objects.order_by("session_id", "minute").values_list("gmv", flat=True)[:500])
    merchants_demo.seed(out)
    assert (LiveSession.objects.count(), SessionMinute.objects.count()) == (sessions, minutes)
    assert list(SessionMinute.objects.order_by("session_id", "minute").values_list("gmv", flat=True)[:500]) == snapshot
    session = LiveSession.objects.order_by("started_at").first()
    start = session.started_at + 60 * MIN
    changed = merchants_demo.apply_outage(
        session.service_code, [session.region_code], start, start + 20 * MIN, Decimal("0.05")
    )
    assert changed == 30
    during = SessionMinute.objects.get(session=session, minute=start + 5 * MIN)
    dipped = during.gmv
    minutes = int((session.ended_at - session.started_at) / MIN)
    usual = merchants_demo.curve(session.merchant.code, session.external_id, minutes)[65][2]
    assert dipped == (usual * Decimal("0.05")).quantize(Decimal("0.01"))  # 5 % of the usual curve
    again = merchants_demo.apply_outage(
        session.service_code, [session.region_code], start, start + 20 * MIN, Decimal("0.05")
    )
    during.refresh_from_db()
    assert again == 30 and during.gmv == dipped  # re-applying does not compound
