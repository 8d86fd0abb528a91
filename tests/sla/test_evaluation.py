"""The pure evaluation math (no database): rules 1-7 of the README, and properties."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla import evaluation as ev

SHANGHAI = "Asia/Shanghai"
NOV = ev.month_window(2026, 11, SHANGHAI)  # 30 days = 43,200 minutes
OCT = ev.month_window(2026, 10, SHANGHAI)
TIERS = (
    ev.Tier(Decimal("99.95"), Decimal("10")),
    ev.Tier(Decimal("99.0"), Decimal("25")),
    ev.Tier(Decimal("95.0"), Decimal("100")),
)


def terms(**kw):
    base = {
        "monthly_fee": Decimal("200000.00"),
        "availability_target": Decimal("99.95"),
        "partial_outage_weight": Decimal("0.5"),
        "degraded_weight": Decimal("0"),
        "maintenance_notice_hours": 48,
        "credit_tiers": TIERS,
        "credit_cap_percent": Decimal("100"),
    }
    base.update(kw)
    return ev.Terms(**base)


def at(day, hour=0, minute=0, second=0, month=11):
    """A time in Shanghai (UTC+8) given as UTC, to keep the offset explicit."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=8)


def inc(i, start, end, impact="major_outage", **kw):
    return ev.IncidentIn(
        id=i, external_id=f"INC-{i}", impact=impact, started_at=start, detected_at=start, resolved_at=end, **kw
    )


def mw(i, start, end, announced):
    return ev.MaintenanceIn(id=i, starts_at=start, ends_at=end, announced_at=announced)


AFTER = datetime(2027, 1, 1, tzinfo=UTC)


def run(incidents=(), maintenance=(), window=NOV, now=AFTER, **kw):
    return ev.evaluate(
        terms(**kw), *window, list(incidents), list(maintenance), now=now, claim_deadline=date(2026, 12, 30)
    )


def test_month_window_is_in_the_contract_time_zone():
    start, end = NOV
    assert start.astimezone(UTC) == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert run().eligible_minutes == Decimal("43200.00")


def test_no_incidents_is_full_availability_and_no_credit():
    r = run()
    assert r.availability == 100
    assert r.availability_percent == Decimal("100.0000")
    assert r.credit_amount == Decimal("0.00")
    assert r.provisional is False


def test_overlapping_incidents_are_never_counted_twice():
    r = run([inc(1, at(3, 10), at(3, 11)), inc(2, at(3, 10, 30), at(3, 11, 30))])
    assert r.downtime_minutes == Decimal("90.00")


def test_overlap_takes_the_largest_weight_each_second():
    # major 10:00-11:00 (1), partial 10:30-12:00 (0.5): 60 + 60 * 0.5 = 90
    r = run([inc(1, at(3, 10), at(3, 11)), inc(2, at(3, 10, 30), at(3, 12), "partial_outage")])
    assert r.downtime_minutes == Decimal("90.00")
    counted = {row["external_id"]: row["downtime_minutes"] for row in r.incidents}
    assert counted == {"INC-1": "60.00", "INC-2": "30.00"}  # the figures per incident add up


def test_weights_partial_and_degraded():
    incidents = [
        inc(1, at(5, 0), at(5, 2), "partial_outage"),
        inc(2, at(6, 0), at(6, 2), "degraded_performance"),
    ]
    assert run(incidents).downtime_minutes == Decimal("60.00")
    assert run(incidents, degraded_weight=Decimal("0.25")).downtime_minutes == Decimal("90.00")
    assert run(incidents, partial_outage_weight=Decimal("1")).downtime_minutes == Decimal("120.00")


def test_incident_crossing_month_boundary_is_clipped_to_each_month():
    crossing = inc(1, at(31, 23, month=10), at(1, 1))  # 23:00 Oct 31 to 01:00 Nov 1, Shanghai time
    assert run([crossing], window=OCT).downtime_minutes == Decimal("60.00")
    assert run([crossing], window=NOV).downtime_minutes == Decimal("60.00")


def test_offsets_decide_the_month_utc_vs_shanghai():
    # 2026-10-31 17:00 UTC is already November 1st 01:00 in Shanghai.
    utc_start = datetime(2026, 10, 31, 17, tzinfo=UTC)
    incident = inc(1, utc_start, utc_start + timedelta(hours=1))
    assert run([incident], window=NOV).downtime_minutes == Decimal("60.00")
    assert run([incident], window=ev.month_window(2026, 11, "UTC")).downtime_minutes == Decimal("0.00")
    assert run([incident], window=ev.month_window(2026, 10, "UTC")).downtime_minutes == Decimal("60.00")


def test_half_hour_offset_zone():
    kolkata = ev.month_window(2026, 11, "Asia/Kolkata")
    assert kolkata[0].astimezone(UTC) == datetime(2026, 10, 31, 18, 30, tzinfo=UTC)
    start = datetime(2026, 10, 31, 18, tzinfo=UTC)  # 23:30 Oct 31 in Kolkata
    assert run([inc(1, start, start + timedelta(hours=1))], window=kolkata).downtime_minutes == Decimal("30.00")


def test_dst_month_has_its_real_length():
    # America/New_York, March 2026 loses an hour: 31 * 1440 - 60 minutes.
    assert run(window=ev.month_window(2026, 3, "America/New_York")).eligible_minutes == Decimal("44580.00")


def test_maintenance_announced_in_time_leaves_downtime_and_total():
    start, end = at(10, 2), at(10, 4)
    window = mw(1, start, end, announced=start - timedelta(hours=48))
    r = run([inc(1, at(10, 1), at(10, 5))], [window])
    assert r.excluded_minutes == Decimal("120.00")
    assert r.eligible_minutes == Decimal("43080.00")
    assert r.downtime_minutes == Decimal("120.00")  # 01:00-02:00 and 04:00-05:00
    assert r.availability == Fraction(43080 - 120, 43080) * 100
    assert r.maintenance[0]["announced_in_time"] is True


def test_maintenance_announced_late_excludes_nothing():
    start, end = at(10, 2), at(10, 4)
    window = mw(1, start, end, announced=start - timedelta(hours=48) + timedelta(seconds=1))
    r = run([inc(1, at(10, 1), at(10, 5))], [window])
    assert r.excluded_minutes == Decimal("0.00")
    assert r.downtime_minutes == Decimal("240.00")
    assert r.maintenance[0]["announced_in_time"] is False


def test_overlapping_maintenance_windows_are_excluded_once():
    a = mw(1, at(10, 2), at(10, 4), at(1))
    b = mw(2, at(10, 3), at(10, 5), at(1))
    assert run(maintenance=[a, b]).excluded_minutes == Decimal("180.00")


def test_ongoing_incident_counts_to_now_and_is_provisional():
    now = at(20, 12)
    r = run([inc(1, at(20, 10), None)], now=now)
    assert r.downtime_minutes == Decimal("120.00")
    assert r.provisional is True
    assert r.incidents[0]["ongoing"] is True


def test_running_month_is_provisional_even_without_incidents():
    assert run(now=at(20, 12)).provisional is True
    assert run(now=NOV[1]).provisional is False


def test_tier_edge_exactly_at_threshold_is_not_below():
    # 0.05 % of 43,200 minutes = 21.6 minutes = 1,296 seconds: exactly 99.95.
    exact = run([inc(1, at(2, 0), at(2, 0, 21, 36))])
    assert exact.availability == Fraction("99.95")
    assert exact.availability_percent == Decimal("99.9500")
    assert exact.tier_credit_percent == Decimal("0.00")
    assert exact.credit_amount == Decimal("0.00")
    one_more = run([inc(1, at(2, 0), at(2, 0, 21, 37))])
    assert one_more.availability < Fraction("99.95")
    assert one_more.availability_percent == Decimal("99.9500")  # shown rounded, compared exactly
    assert one_more.tier_credit_percent == Decimal("10.00")
    assert one_more.credit_amount == Decimal("20000.00")


def test_largest_matching_tier_wins():
    # 1 % of 43,200 = 432 minutes; 500 minutes -> below 99.0 -> 25 %
    r = run([inc(1, at(2, 0), at(2, 8, 20))])
    assert r.tier_credit_percent == Decimal("25.00")
    assert r.credit_amount == Decimal("50000.00")


def test_recovery_breach_adds_credit_and_exact_target_is_no_breach():
    targets = (ev.RecoveryTarget("major_outage", 30, Decimal("5")),)
    on_target = run([inc(1, at(2, 0), at(2, 0, 30))], recovery_targets=targets)
    assert on_target.recovery_breaches == []
    late = run([inc(1, at(2, 0), at(2, 0, 31)), inc(2, at(3, 0), at(3, 0, 45))], recovery_targets=targets)
    assert [(b["incident"], b["minutes"], b["max_minutes"]) for b in late.recovery_breaches] == [
        ("INC-1", "31.00", 30),
        ("INC-2", "45.00", 30),
    ]
    # 76 minutes downtime -> below 99.95 (10 %) + 2 breaches * 5 %
    assert late.credit_percent == Decimal("20.00")


def test_recovery_breach_belongs_to_the_month_the_incident_started():
    targets = (ev.RecoveryTarget("major_outage", 30, Decimal("5")),)
    crossing = inc(1, at(31, 23, 50, month=10), at(1, 0, 40))
    assert len(run([crossing], window=OCT, recovery_targets=targets).recovery_breaches) == 1
    assert run([crossing], window=NOV, recovery_targets=targets).recovery_breaches == []


def test_credit_is_capped():
    targets = (ev.RecoveryTarget("major_outage", 1, Decimal("30")),)
    r = run(
        [inc(i, at(i + 1, 0), at(i + 1, 10)) for i in range(4)],
        recovery_targets=targets,
        credit_cap_percent=Decimal("50"),
    )
    assert r.uncapped_credit_percent == Decimal("220.00")
    assert r.credit_percent == Decimal("50.00")
    assert r.credit_amount == Decimal("100000.00")


def test_credit_amount_rounds_half_up_to_the_cent():
    tiers = (ev.Tier(Decimal("100"), Decimal("0.05")),)
    # 0.05 % of 10.00 = 0.005 exactly: half-up gives 0.01 (banker's rounding would give 0.00)
    r = run([inc(1, at(2, 0), at(2, 1))], credit_tiers=tiers, monthly_fee=Decimal("10.00"))
    assert r.credit_amount == Decimal("0.01")  # 0.005 -> 0.01


def test_minimum_credit_amount():
    r = run([inc(1, at(2, 0), at(2, 1))], min_credit_amount=Decimal("20000.01"))
    assert r.credit_percent == Decimal("10.00")
    assert r.credit_amount == Decimal("0.00")
    assert r.below_minimum_credit is True
    assert run([inc(1, at(2, 0), at(2, 1))], min_credit_amount=Decimal("20000.00")).credit_amount == Decimal("20000.00")


def test_minimum_downtime_period_drops_short_stretches_only():
    short = inc(1, at(2, 0), at(2, 0, 4, 59))
    exact = inc(2, at(3, 0), at(3, 0, 5))
    # two touching incidents make one continuous stretch of 6 minutes
    a, b = inc(3, at(4, 0), at(4, 0, 3)), inc(4, at(4, 0, 3), at(4, 0, 6), "partial_outage")
    r = run([short, exact, a, b], min_downtime_minutes=5)
    assert r.downtime_minutes == Decimal("9.50")  # 5 + 3 + 3 * 0.5
    assert len(r.dropped_stretches) == 1
    assert run([short], min_downtime_minutes=0).downtime_minutes == Decimal("4.98")


def test_zero_weight_does_not_join_a_stretch():
    # degraded (weight 0) between two 3-minute major outages: two stretches of 3 minutes
    parts = [
        inc(1, at(2, 0), at(2, 0, 3)),
        inc(2, at(2, 0, 3), at(2, 0, 6), "degraded_performance"),
        inc(3, at(2, 0, 6), at(2, 0, 9)),
    ]
    assert run(parts, min_downtime_minutes=5).downtime_minutes == Decimal("0.00")


def test_first_response_breaches_reported_without_credit_unless_given():
    slow = ev.IncidentIn(1, "INC-1", "major_outage", at(2, 0), at(2, 0, 1), at(2, 1), acknowledged_at=at(2, 0, 17))
    fast = ev.IncidentIn(2, "INC-2", "major_outage", at(3, 0), at(3, 0), at(3, 1), acknowledged_at=at(3, 0, 15))
    never = ev.IncidentIn(3, "INC-3", "partial_outage", at(4, 0), at(4, 0), None)
    r = run([slow, fast, never], first_response_minutes=15, now=at(4, 0, 20))
    assert [b["incident"] for b in r.response_breaches] == ["INC-1", "INC-3"]
    assert r.response_breaches[0]["minutes"] == "16.00"
    assert r.response_credit_percent == Decimal("0.00")
    paid = run([slow], first_response_minutes=15, first_response_credit_percent=Decimal("2"))
    assert paid.credit_percent == Decimal("12.00")


def test_whole_month_in_maintenance_is_full_availability():
    r = run([inc(1, at(2), at(3))], [mw(1, NOV[0], NOV[1], NOV[0] - timedelta(days=10))])
    assert r.eligible_us == 0
    assert r.availability == 100


def test_round_half_up():
    assert ev.round_half_up(Fraction(1, 200), 2) == Decimal("0.01")
    assert ev.round_half_up(Fraction(-1, 200), 2) == Decimal("-0.01")
    assert ev.round_half_up(Fraction(99999949999, 10**9), 4) == Decimal("99.9999")
    assert ev.round_half_up(Fraction(999999500, 10**7), 4) == Decimal("100.0000")


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-01", "x", "2026-00"])
def test_parse_period_rejects(bad):
    with pytest.raises(ValueError):
        ev.parse_period(bad)


# --------------------------------------------------------------------------- properties

DAY = ev.month_window(2026, 11, "UTC")[0]
WEIGHTS = {"major_outage": 1, "partial_outage": Fraction(1, 2), "degraded_performance": Fraction(1, 4)}
minute_spans = st.tuples(st.integers(0, 120), st.integers(1, 60))
incident_lists = st.lists(st.tuples(minute_spans, st.sampled_from(sorted(WEIGHTS))), max_size=8)
maintenance_lists = st.lists(st.tuples(minute_spans, st.booleans()), max_size=3)


def _build(specs):
    return [
        inc(i, DAY + timedelta(minutes=s), DAY + timedelta(minutes=s + d), impact)
        for i, ((s, d), impact) in enumerate(specs)
    ]


def _build_mw(specs):
    out = []
    for i, ((s, d), on_time) in enumerate(specs):
        start = DAY + timedelta(minutes=s)
        out.append(mw(i, start, start + timedelta(minutes=d), start - timedelta(hours=48 if on_time else 1)))
    return out


def _window():
    return DAY, DAY + timedelta(minutes=200)


def _eval(incidents, maintenance=(), **kw):
    return ev.evaluate(
        terms(degraded_weight=Decimal("0.25"), **kw),
        *_window(),
        incidents,
        list(maintenance),
        now=AFTER,
        claim_deadline=date(2026, 12, 30),
    )


@settings(max_examples=200, deadline=None)
@given(incident_lists, maintenance_lists)
def test_property_matches_minute_by_minute_oracle(specs, mspecs):
    excluded = set()
    for (s, d), on_time in mspecs:
        if on_time:
            excluded.update(m for m in range(s, s + d) if m < 200)
    downtime = Fraction(0)
    for minute in range(200):
        if minute in excluded:
            continue
        covering = [WEIGHTS[impact] for (s, d), impact in specs if s <= minute < s + d]
        downtime += max(covering, default=0)
    eligible = 200 - len(excluded)
    r = _eval(_build(specs), _build_mw(mspecs))
    assert r.downtime == downtime * ev.MINUTE_US
    assert r.eligible_us == eligible * ev.MINUTE_US
    expected = Fraction(100) if eligible == 0 else (eligible - downtime) * 100 / eligible
    assert r.availability == expected
    assert 0 <= r.availability <= 100


@settings(max_examples=100, deadline=None)
@given(incident_lists, st.randoms(use_true_random=False))
def test_property_order_of_incidents_does_not_matter(specs, rnd):
    incidents = _build(specs)
    shuffled = list(incidents)
    rnd.shuffle(shuffled)
    assert _eval(incidents).downtime == _eval(shuffled).downtime


@settings(max_examples=100, deadline=None)
@given(incident_lists, minute_spans, st.sampled_from(sorted(WEIGHTS)))
def test_property_more_incidents_never_raise_availability(specs, extra, impact):
    before = _eval(_build(specs))
    after = _eval(_build([*specs, (extra, impact)]))
    assert after.downtime >= before.downtime
    assert after.tier_credit_percent >= before.tier_credit_percent


@settings(max_examples=100, deadline=None)
@given(incident_lists, st.integers(0, 30))
def test_property_minimum_downtime_only_removes(specs, min_minutes):
    full = _eval(_build(specs))
    filtered = _eval(_build(specs), min_downtime_minutes=min_minutes)
    assert filtered.downtime <= full.downtime
    if min_minutes == 0:
        assert filtered.downtime == full.downtime


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 150), st.integers(2, 50), st.integers(1, 49))
def test_property_splitting_an_incident_changes_nothing(start, length, cut):
    cut = min(cut, length - 1)
    whole = _eval(_build([((start, length), "major_outage")]), min_downtime_minutes=length)
    parts = _eval(
        _build([((start, cut), "major_outage"), ((start + cut, length - cut), "major_outage")]),
        min_downtime_minutes=length,
    )
    assert whole.downtime == parts.downtime


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 43200 * 60))
def test_property_tier_comparison_is_exact(downtime_seconds):
    start = NOV[0]
    r = run([inc(1, start, start + timedelta(seconds=downtime_seconds))])
    availability = Fraction(43200 * 60 - downtime_seconds, 43200 * 60) * 100
    assert r.availability == availability
    expected = max((t.credit_percent for t in TIERS if Fraction(t.below) > availability), default=Decimal(0))
    assert r.tier_credit_percent == expected
    assert (r.tier_credit_percent > 0) == (downtime_seconds > 1296)


# --- the totals without segments agree with the segments they skip ----------------------------

_span = st.tuples(st.integers(0, 500), st.integers(0, 120))


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(st.tuples(_span, st.sampled_from([0, 2500, 5000, 10000])), max_size=25),
    holes=st.lists(_span, max_size=5),
    min_len=st.integers(0, 90),
)
def test_weighted_downtime_equals_the_sum_of_the_segments(items, holes, min_len):
    items = [(s, s + d, w) for (s, d), w in items]
    holes = ev.union((s, s + d) for s, d in holes)
    kept, dropped = ev.drop_short_stretches(ev.weighted_segments(items), min_len)
    expected = sum(seg.weight * seg.length for seg in ev.subtract(kept, holes))
    assert ev.weighted_downtime(items, min_len, holes) == (expected, dropped)


def test_credits_come_without_building_rows_and_the_rows_built_later_agree():
    """A batch that only compares totals never formats per-incident or breach rows; an
    evaluation shown or stored builds them on first use, and they match the credits."""
    targets = (ev.RecoveryTarget("major_outage", 30, Decimal("5")),)
    slow = ev.IncidentIn(1, "INC-1", "major_outage", at(2, 0), at(2, 0, 1), at(2, 0, 45), acknowledged_at=at(2, 0, 20))
    quick = inc(2, at(3, 0), at(3, 0, 10), impact="partial_outage")
    r = run(
        [slow, quick],
        recovery_targets=targets,
        first_response_minutes=15,
        first_response_credit_percent=Decimal("2"),
    )
    assert (r.recovery_credit_percent, r.response_credit_percent) == (Decimal("5.00"), Decimal("2.00"))
    assert r.credit_percent == Decimal("17.00") and r.downtime_minutes == Decimal("50.00")
    assert r._built is None and r._breaches_built is None  # nothing built for the totals
    assert [b["incident"] for b in r.recovery_breaches] == ["INC-1"] and r.recovery_breaches[0]["minutes"] == "45.00"
    assert [(b["incident"], b["minutes"]) for b in r.response_breaches] == [("INC-1", "19.00")]
    assert [row["downtime_minutes"] for row in r.incidents] == ["45.00", "5.00"]
