"""Every rule of the default loss policy, on PostgreSQL."""

from datetime import timedelta
from decimal import Decimal

import pytest

from losses.engine import assess_incident, compute, estimate_incident
from losses.models import LossAssessment
from losses.policy import publish_policy

from .conftest import MIN, T0

pytestmark = pytest.mark.usefixtures("v1_active")  # loss model v1's rules

D = Decimal


def only(estimate):
    assert len(estimate) == 1
    return estimate[0]


def standard_session(f, merchant, sid="S1", region="cn-east", during="40", before="100", ad="2"):
    """Session T0-60 .. T0+60; 100/min before, ``during`` in [T0, T0+30), 100 after; ad 2/min."""
    session = f.session(merchant, sid, T0 - 60 * MIN, T0 + 60 * MIN, region=region)
    f.metrics(session, T0 - 60 * MIN, 120, lambda i: before if i < 60 else during if i < 90 else "100", ad)
    return session


# --- 1. affected minutes and impact matching ------------------------------------------------


def test_pre_incident_baseline_full_computation(f):
    m = f.merchant()
    standard_session(f, m)
    incident = f.incident()  # T0 .. T0+20, tail 10 -> 30 affected minutes
    r = only(estimate_incident(incident))
    line = only(r["sessions"])
    assert line["affected_minutes"] == 30
    assert line["baseline_method"] == "pre_incident"
    assert D(line["baseline_gmv_per_minute"]) == 100
    assert D(line["actual_gmv"]) == 1200
    assert D(line["lost_gmv"]) == 1800  # 30 x (100 - 40)
    assert D(line["lost_profit"]) == 540  # x 0.30
    assert D(line["wasted_ad_spend"]) == 36  # 30 x 2 x 0.6
    assert r["responsibility_percent"] == "100.00"
    assert r["compensation_before_pool"] == r["compensation"] == "576.00"
    assert r["flags"] == []
    assert line["data_coverage"] == "1.0000"


def test_tail_edge_minutes(f):
    m = f.merchant()
    session = f.session(m, "S1", T0 - 60 * MIN, T0 + 120 * MIN)
    f.metrics(session, T0 - 60 * MIN, 180, lambda i: "10" if i < 60 else "0")
    aligned = f.incident(T0, T0 + 20 * MIN)
    agg = compute(aligned).merchants[0].lines[0].agg
    assert (agg.window_start, agg.window_end, agg.affected) == (T0, T0 + 30 * MIN, 30)  # T0+29 in, T0+30 out
    ragged = f.incident(T0 + 30 * timedelta(seconds=1), T0 + 20 * MIN + timedelta(seconds=30))
    agg = compute(ragged).merchants[0].lines[0].agg
    # [T0:30, T0+30:30) overlaps minutes T0 .. T0+30 (31 minutes)
    assert (agg.window_start, agg.window_end, agg.affected) == (T0, T0 + 31 * MIN, 31)


def test_session_starting_in_the_tail_and_sessions_not_hit(f):
    m = f.merchant()
    tail = f.session(m, "tail", T0 + 25 * MIN, T0 + 90 * MIN)
    f.metrics(tail, T0 + 25 * MIN, 65, "5")
    f.session(m, "after-tail", T0 + 30 * MIN, T0 + 90 * MIN)
    f.session(m, "ended-before", T0 - 60 * MIN, T0)
    f.session(m, "other-region", T0 - 60 * MIN, T0 + 60 * MIN, region="cn-north")
    f.session(m, "other-service", T0 - 60 * MIN, T0 + 60 * MIN, service="cdn-live")
    still_live = f.session(m, "live", T0 - 5 * MIN, None, region="cn-south")
    incident = f.incident(regions=("cn-east", "cn-south"))
    lines = {ln["session_id"]: ln for ln in only(estimate_incident(incident))["sessions"]}
    assert set(lines) == {"tail", "live"}
    assert lines["tail"]["affected_minutes"] == 5
    assert lines["live"]["affected_minutes"] == 30
    assert still_live.ended_at is None


def test_minutes_without_rows_count_as_zero(f):
    m = f.merchant()
    session = f.session(m, "S1", T0 - 30 * MIN, T0 + 30 * MIN)
    # 30 pre minutes at 100, then only 10 of the 30 affected minutes have rows (at 100)
    f.metrics(session, T0 - 30 * MIN, 60, "100", skip=set(range(40, 60)))
    line = only(only(estimate_incident(f.incident()))["sessions"])
    assert line["affected_minutes"] == 30
    assert D(line["lost_gmv"]) == 2000  # 20 missing minutes x 100
    assert line["data_coverage"] == "0.3333"


# --- 2. baselines ---------------------------------------------------------------------------


def test_pre_incident_needs_ten_minutes_else_historical(f):
    m = f.merchant()
    hit = f.session(m, "hit", T0 - 9 * MIN, T0 + 40 * MIN)
    f.metrics(hit, T0 - 9 * MIN, 49, lambda i: "500" if i < 9 else "0")  # 9 pre minutes only
    week_ago = T0 - timedelta(days=7)
    old = f.session(m, "old", week_ago, week_ago + 80 * MIN)
    f.metrics(old, week_ago, 80, lambda i: "50" if i < 60 else "0")  # last 20 minutes: old outage
    f.incident(week_ago + 60 * MIN, week_ago + 70 * MIN)  # +10 tail covers the 20 zero minutes
    ancient = f.session(m, "ancient", T0 - timedelta(days=29), T0 - timedelta(days=29) + 100 * MIN)
    f.metrics(ancient, T0 - timedelta(days=29), 100, "1000")  # outside the 28 days
    other_merchant = f.merchant("m2")
    stranger = f.session(other_merchant, "stranger", week_ago, week_ago + 100 * MIN, region="cn-north")
    f.metrics(stranger, week_ago, 100, "9999")
    incident = f.incident()
    line = only(only(estimate_incident(incident))["sessions"])
    assert line["baseline_method"] == "historical"
    assert D(line["baseline_gmv_per_minute"]) == 50
    assert D(line["lost_gmv"]) == 30 * 50


def test_historical_needs_sixty_minutes_else_insufficient_data(f):
    m = f.merchant()
    hit = f.session(m, "hit", T0, T0 + 40 * MIN)
    f.metrics(hit, T0, 40, "0")
    week_ago = T0 - timedelta(days=7)
    old = f.session(m, "old", week_ago, week_ago + 59 * MIN)
    f.metrics(old, week_ago, 59, "50")
    incident = f.incident()
    r = only(estimate_incident(incident))
    assert r["sessions"][0]["baseline_method"] == "insufficient_data"
    assert D(r["sessions"][0]["lost_gmv"]) == 0
    assert r["compensation"] == "0.00"
    assert r["flags"] == ["insufficient_data"]
    f.metrics(old, week_ago + 59 * MIN, 1, "50")  # the 60th minute makes history enough
    assert only(estimate_incident(incident))["sessions"][0]["baseline_method"] == "historical"


def test_historical_excludes_the_session_itself_and_minutes_of_any_incident(f):
    m = f.merchant()
    day_ago = T0 - timedelta(days=1)
    # the hit session started a day ago: its own minutes must not feed its historical baseline
    hit = f.session(m, "hit", day_ago, T0 + 40 * MIN)
    f.metrics(hit, day_ago, 60, "700")
    other = f.session(m, "other", day_ago, day_ago + 90 * MIN, region="cn-north", service="cdn-live")
    f.metrics(other, day_ago, 90, lambda i: "0" if i < 30 else "20")
    f.incident(day_ago, day_ago + 20 * MIN, regions=("cn-north",), service=f.world["other_service"])
    line = only(only(estimate_incident(f.incident()))["sessions"])
    assert line["baseline_method"] == "historical"
    assert D(line["baseline_gmv_per_minute"]) == 20  # the 30 outage minutes (20 + tail 10) left out


def test_zero_baseline_gives_zero_loss_and_no_division(f):
    m = f.merchant()
    standard_session(f, m, before="0", during="0", ad="5")
    r = only(estimate_incident(f.incident()))
    line = only(r["sessions"])
    assert line["baseline_method"] == "pre_incident"
    assert D(line["baseline_gmv_per_minute"]) == 0
    assert D(line["lost_gmv"]) == D(line["wasted_ad_spend"]) == 0
    assert r["compensation"] == "0.00"


def test_minutes_above_baseline_count_zero_not_negative(f):
    m = f.merchant()
    standard_session(f, m, during="250")
    line = only(only(estimate_incident(f.incident()))["sessions"])
    assert D(line["lost_gmv"]) == 0 and D(line["wasted_ad_spend"]) == 0


# --- 4. margin ------------------------------------------------------------------------------


@pytest.mark.parametrize(("declared", "applied"), [(None, "0.30"), ("0.45", "0.45"), ("0.80", "0.60")])
def test_margin_rate_default_declared_and_capped(f, declared, applied):
    m = f.merchant(margin=D(declared) if declared else None)
    standard_session(f, m, ad="0")
    r = only(estimate_incident(f.incident()))
    assert D(r["margin_rate"]) == D(applied)
    assert D(r["sessions"][0]["lost_profit"]) == 1800 * D(applied)


# --- 6. responsibility by cause ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cause", "percent", "compensation", "flags"),
    [
        ("provider", "100.00", "576.00", []),
        ("platform", "100.00", "576.00", []),
        ("third_party", "50.00", "288.00", []),
        ("unknown", "100.00", "576.00", ["unknown_cause"]),
        ("merchant", "0.00", "0.00", ["not_eligible"]),
    ],
)
def test_responsibility_by_cause(f, cause, percent, compensation, flags):
    standard_session(f, f.merchant())
    r = only(estimate_incident(f.incident(cause=cause)))
    assert (r["responsibility_percent"], r["compensation"], r["flags"]) == (percent, compensation, flags)


# --- 7. rounding and the cap per claim ----------------------------------------------------------


def test_rounding_half_up_only_at_the_end(f):
    m = f.merchant(margin=D("0.0025"))
    session = f.session(m, "S1", T0 - 30 * MIN, T0 + 60 * MIN)
    f.metrics(session, T0 - 30 * MIN, 90, lambda i: "0" if i == 35 else "10")
    r = only(estimate_incident(f.incident()))
    assert D(r["sessions"][0]["lost_gmv"]) == 10
    assert D(r["sessions"][0]["lost_profit"]) == D("0.025")
    assert r["compensation"] == "0.03"  # half-up (half-even would give 0.02)


def test_cap_per_claim_over_several_sessions(f):
    m = f.merchant(margin=D("0.5"))
    for i, region in enumerate(["cn-east", "cn-east"]):
        s = f.session(m, f"S{i}", T0 - 30 * MIN, T0 + 60 * MIN, region=region)
        f.metrics(s, T0 - 30 * MIN, 90, lambda k: "4000" if k < 30 else "0")  # 30 x 4000 lost each
    r = only(estimate_incident(f.incident()))
    assert len(r["sessions"]) == 2  # one claim, one line per session
    assert r["compensation"] == r["compensation_before_pool"] == "50000.00"  # 2 x 60000 capped
    assert r["flags"] == ["capped"]


# --- 8. incident pool -----------------------------------------------------------------------


def test_pool_scaling_sums_exactly_with_largest_remainder(f):
    publish_policy({"incident_pool": D("100.00")})
    for code in ("a", "b", "c"):
        m = f.merchant(code, margin=D("0.25"))
        s = f.session(m, f"S-{code}", T0 - 30 * MIN, T0 + 60 * MIN)
        f.metrics(s, T0 - 30 * MIN, 90, lambda k: "10" if k < 30 else "0")  # 300 lost -> 75.00 each
    estimate = estimate_incident(f.incident())
    assert [r["compensation_before_pool"] for r in estimate] == ["75.00"] * 3
    assert [r["compensation"] for r in estimate] == ["33.34", "33.33", "33.33"]
    assert sum(D(r["compensation"]) for r in estimate) == D("100.00")
    assert all("pool_scaled" in r["flags"] for r in estimate)


def test_pool_not_applied_when_total_fits(f):
    publish_policy({"incident_pool": D("576.00")})
    standard_session(f, f.merchant())
    r = only(estimate_incident(f.incident()))
    assert r["compensation"] == "576.00" and "pool_scaled" not in r["flags"]


# --- 1. double compensation ---------------------------------------------------------------------


def test_minute_already_compensated_under_another_incident_is_not_counted_again(f):
    m = f.merchant()
    standard_session(f, m)  # T0-60 .. T0+60
    first = f.incident(T0, T0 + 20 * MIN)  # window [T0, T0+30)
    second = f.incident(T0 + 10 * MIN, T0 + 40 * MIN)  # window [T0+10, T0+50)
    a1 = only(assess_incident(first, now=T0 + timedelta(hours=2)))
    a2 = only(assess_incident(second, now=T0 + timedelta(hours=3)))
    l1, l2 = a1.lines.get(), a2.lines.get()
    assert (l1.affected_minutes, l1.excluded_minutes) == (30, 0)
    assert (l2.affected_minutes, l2.excluded_minutes) == (20, 20)  # T0+10..T0+30 belong to the first
    # recomputing the first claim keeps its minutes (it was assessed first) and changes nothing
    again = only(assess_incident(first, now=T0 + timedelta(hours=4)))
    assert again.pk == a1.pk
    # a claim that is not eligible does not hold minutes
    north = standard_session(f, m, sid="S2", region="cn-north")
    merchant_fault = f.incident(T0, T0 + 20 * MIN, cause="merchant", regions=("cn-north",))
    assert only(assess_incident(merchant_fault, now=T0 + timedelta(hours=5))).responsibility_percent == 0
    third = f.incident(T0, T0 + 20 * MIN, regions=("cn-north",))
    l3 = only(assess_incident(third, now=T0 + timedelta(hours=6))).lines.get()
    assert (l3.session_id, l3.affected_minutes, l3.excluded_minutes) == (north.pk, 30, 0)


# --- storage, history and explainability --------------------------------------------------------


def test_assessment_stores_inputs_and_keeps_history(f):
    m = f.merchant()
    session = standard_session(f, m)
    incident = f.incident()
    first = only(assess_incident(incident, now=T0 + timedelta(hours=1)))
    line = first.lines.get()
    assert first.is_current and first.policy.version == 1 and first.compensation == D("576.00")
    assert (line.session_id, line.baseline_minutes, line.baseline_gmv_sum) == (session.pk, 30, D("3000.00"))
    assert line.window_start == T0 and line.window_end == T0 + 30 * MIN
    assert first.inputs["sessions"][0]["baseline_minutes"] == 30
    assert len(first.inputs_fingerprint) == 64
    # same inputs: same result, no new row
    assert only(assess_incident(incident, now=T0 + timedelta(hours=2))).pk == first.pk
    # changed data: a new current assessment, the old one kept and linked
    session.minutes.filter(minute=T0).update(gmv=D("100"))
    second = only(assess_incident(incident, now=T0 + timedelta(hours=3)))
    first.refresh_from_db()
    assert second.pk != first.pk and not first.is_current and first.superseded_by_id == second.pk
    assert second.first_computed_at == first.computed_at
    assert second.compensation == D("576.00") - D("0.60") * D("0.30") * 100 - D("1.20")
    assert LossAssessment.objects.filter(incident=incident, is_current=True).count() == 1


def test_new_policy_version_is_used_and_old_assessments_keep_theirs(f):
    standard_session(f, f.merchant())
    incident = f.incident(cause="third_party")
    old = only(assess_incident(incident))
    publish_policy({"responsibility_third_party": D("80")})
    new = only(assess_incident(incident))
    old.refresh_from_db()
    assert (old.policy.version, old.compensation) == (1, D("288.00"))
    assert (new.policy.version, new.policy.loss_model, new.compensation) == (3, 1, D("460.80"))  # v2 is version 2


def test_assessment_is_bounded_in_queries(f, django_assert_max_num_queries):
    for k in range(12):
        standard_session(f, f.merchant(f"m{k % 4}"), sid=f"S{k}")
    incident = f.incident()
    with django_assert_max_num_queries(20):
        result = assess_incident(incident)
    assert len(result) == 4 and sum(a.lines.count() for a in result) == 12


def test_unresolved_incident_is_provisional(f):
    standard_session(f, f.merchant())
    incident = f.incident(end=None)
    r = only(estimate_incident(incident, now=T0 + 15 * MIN))
    assert r["sessions"][0]["affected_minutes"] == 25  # until now + tail
    assert "ongoing" in r["flags"]
