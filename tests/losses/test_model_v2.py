"""Loss model v2 (the active default): its properties on constructed data, on PostgreSQL."""

import json
import random
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from django.core.management import call_command

from losses import simulation as sim
from losses.engine import assess_incident, compute, estimate_incident, round_cents
from losses.models import CompensationPolicy, LossAssessment
from merchants.models import SessionMinute

from .conftest import MIN, T0

D = Decimal
SHAPE = sim.Shape()
LENGTH, OFFSET = 180, 90  # sessions of 3 h; the incident starts 90 minutes in
DAY = timedelta(days=1)


def put(f, merchant, sid, start, values, *, region="cn-east", ad="0"):
    session = f.session(merchant, sid, start, start + len(values) * MIN, region=region)
    SessionMinute.objects.bulk_create(
        SessionMinute(session=session, minute=start + i * MIN, viewers=100, orders=1, gmv=sim.money(v), ad_spend=D(ad))
        for i, v in enumerate(values)
    )
    return session


def clean(level=100.0):
    """The merchant's shape at ``level``, without noise, in whole cents."""
    return [float(sim.money(level * SHAPE.factor(i, LENGTH))) for i in range(LENGTH)]


def history(f, merchant, *, days=6, values=None, rng=None, noise=None, region="cn-east"):
    """The merchant's unaffected sessions of the previous ``days`` days, same clock time."""
    for d in range(1, days + 1):
        curve = values if values is not None else sim.curve(rng, LENGTH, 100.0, SHAPE, noise)
        put(f, merchant, f"{merchant.code}-d{d}", T0 - OFFSET * MIN - d * DAY, curve, region=region)


def line_of(result):
    (merchant,) = result
    (line,) = merchant["sessions"]
    return merchant, line


def test_v2_is_the_active_default_and_v1_is_kept(db):
    active = CompensationPolicy.objects.get(is_active=True)
    assert (active.version, active.loss_model) == (2, 2)
    assert CompensationPolicy.objects.get(version=1).loss_model == 1


def test_expected_follows_the_session_shape_scaled_to_its_level(f):
    """A session selling 1.5x its usual curve, nothing lost: expected = 1.5 x the profile's window, loss 0."""
    m = f.merchant()
    history(f, m, values=clean())
    today = [v * 1.5 for v in clean()]
    put(f, m, "today", T0 - OFFSET * MIN, today)
    r, line = line_of(estimate_incident(f.incident()))  # 20 min + 10 min tail: minutes 90..119
    window = sum(sim.money(v) for v in today[OFFSET : OFFSET + 30])
    assert line["baseline_method"] == "profile_scaled"
    assert D(line["expected_gmv"]) == window
    assert D(line["net_shortfall"]) == 0
    assert len(line["profile_sessions"]) == 6
    assert r["compensation"] == "0.00"


def test_net_shortfall_and_make_up_sales_offset_it(f):
    """Full outage of 20 minutes; the second merchant's buyers come back in the tail and buy 15 %
    of what was lost: its net shortfall is lower by exactly that make-up GMV."""
    results = {}
    for code, makeup in (("plain", 0.0), ("makeup", 0.15)):
        m = f.merchant(code, margin=D("0.25"))
        history(f, m, values=clean())
        today = sim.outage(clean(), OFFSET, 20, 0.0, makeup=makeup)
        put(f, m, f"{code}-today", T0 - OFFSET * MIN, today, ad="2")
        results[code] = today
    incident = f.incident()
    by_code = {r["merchant"]: r for r in estimate_incident(incident)}
    lines = {code: by_code[code]["sessions"][0] for code in results}
    expected = sum(sim.money(v) for v in clean()[OFFSET : OFFSET + 30])
    for code, today in results.items():
        actual = sum(sim.money(v) for v in today[OFFSET : OFFSET + 30])
        line = lines[code]
        assert D(line["expected_gmv"]) == expected
        assert D(line["actual_gmv"]) == actual
        assert D(line["net_shortfall"]) == D(line["lost_gmv"]) == expected - actual
        assert D(line["lost_profit"]) == (expected - actual) * D("0.25")
        wasted = Fraction(60) * Fraction(expected - actual) / Fraction(expected)  # 30 minutes x 2 ad spend
        exact = Fraction(expected - actual) * Fraction(1, 4) + wasted
        assert by_code[code]["compensation"] == str(round_cents(exact))
    makeup_gmv = sum(sim.money(v) for v in results["makeup"][OFFSET + 20 : OFFSET + 30]) - sum(
        sim.money(v) for v in clean()[OFFSET + 20 : OFFSET + 30]
    )
    assert makeup_gmv > 0
    assert D(lines["plain"]["net_shortfall"]) - D(lines["makeup"]["net_shortfall"]) == makeup_gmv
    # v1 sums per-minute gaps under a flat line and ignores the make-up sales: it pays more.
    v1 = {r["merchant"]: r for r in estimate_incident(incident, policy_version=1)}
    assert D(v1["makeup"]["sessions"][0]["lost_gmv"]) > D(lines["makeup"]["lost_gmv"])


def test_session_above_its_expectation_has_no_loss(f):
    m = f.merchant()
    history(f, m, values=clean())
    today = clean()
    today[OFFSET : OFFSET + 30] = [v * 1.2 for v in today[OFFSET : OFFSET + 30]]
    put(f, m, "today", T0 - OFFSET * MIN, today)
    r, line = line_of(estimate_incident(f.incident()))
    assert D(line["net_shortfall"]) < 0
    assert D(line["lost_gmv"]) == 0 and r["compensation"] == "0.00"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_flat_noise_session_gets_about_zero(f, seed):
    """Noise only, the incident changed nothing: the estimate is near 0 and pays nothing."""
    rng = random.Random(seed)
    m = f.merchant()
    noise = sim.Noise(minute=0.25, drift=0.0)
    history(f, m, rng=rng, noise=noise)
    put(f, m, "today", T0 - OFFSET * MIN, sim.curve(rng, LENGTH, 100.0, SHAPE, noise))
    r, line = line_of(estimate_incident(f.incident()))
    expected = D(line["expected_gmv"])
    assert abs(D(line["net_shortfall"])) < expected * D("0.10")
    assert D(line["net_shortfall_low"]) <= 0 <= D(line["net_shortfall_high"])
    assert r["compensation"] == "0.00"
    assert D(line["net_shortfall"]) <= 0 or line["within_noise"]


def test_promotion_day_is_not_a_loss(f):
    """The whole platform sells 1.6x today. The session's own level minutes absorb it (before the
    incident, or after the window for a session that starts with the incident); a session with
    neither is calibrated by the sessions no incident touched."""
    lifted = [v * 1.6 for v in clean()]
    m = f.merchant("hit")
    history(f, m, values=clean())
    put(f, m, "scaled", T0 - OFFSET * MIN, lifted)
    truths = {}
    for code, length in (("late", LENGTH), ("short", 30)):  # start with the incident; "short" ends with W
        merchant = f.merchant(code)
        for d in range(1, 7):
            put(f, merchant, f"{code}-d{d}", T0 - d * DAY, clean())
        today = sim.outage(lifted, 0, 20, 0.0)[:length]
        put(f, merchant, f"{code}-today", T0, today)
        truths[code] = sum(sim.money(v) for v in lifted[:30]) - sum(sim.money(v) for v in today[:30])
    # Untouched concurrent sessions (another region) at 1.6x today, 1.0x on earlier days.
    other = f.merchant("other")
    for d in range(0, 7):
        put(f, other, f"other-d{d}", T0 - d * DAY, lifted if d == 0 else clean(), region="cn-north")
    by_code = {r["merchant"]: r for r in estimate_incident(f.incident())}
    scaled = by_code["hit"]["sessions"][0]
    assert scaled["baseline_method"] == "profile_scaled" and D(scaled["net_shortfall"]) == 0
    assert by_code["hit"]["compensation"] == "0.00"
    late = by_code["late"]["sessions"][0]
    assert late["baseline_method"] == "profile_scaled"
    assert abs(D(late["net_shortfall"]) - truths["late"]) <= D("0.01")
    short = by_code["short"]["sessions"][0]
    assert short["baseline_method"] == "profile"
    assert D(short["calibration"]) == D("1.6")
    assert abs(D(short["net_shortfall"]) - truths["short"]) <= D("0.01")


def _simulated_platform(f, seed, merchants):
    """Merchants with 8 unaffected past sessions each. Today, an incident that changed nothing hits
    the even merchants' sessions (cn-east, placebo); another hits the odd ones' (cn-north) with an
    outage at factor 0..0.7 and 15 % make-up sales.
    Returns the truth per session (counterfactual − actual over the affected window)."""
    rng = random.Random(seed)
    noise = sim.Noise()
    truth = {}
    for k in range(merchants):
        m = f.merchant(f"m{k:02d}")
        history(f, m, days=8, rng=rng, noise=noise)
        counterfactual = sim.curve(rng, LENGTH, 100.0 * (0.6 + 0.8 * rng.random()), SHAPE, noise)
        if k % 2:
            actual = sim.outage(counterfactual, OFFSET, 20, rng.choice([0.0, 0.3, 0.7]), makeup=0.15)
        else:
            actual = counterfactual
        put(f, m, f"m{k:02d}-today", T0 - OFFSET * MIN, actual, region="cn-north" if k % 2 else "cn-east")
        window = slice(OFFSET, OFFSET + 30)
        truth[m.code] = sum(map(sim.money, counterfactual[window])) - sum(map(sim.money, actual[window]))
    return truth


def test_interval_coverage_and_placebo_pay_out_on_simulated_windows(f):
    truth = _simulated_platform(f, seed=7, merchants=40)
    placebo = f.incident()
    outage = f.incident(regions=("cn-north",))
    results = estimate_incident(placebo) + estimate_incident(outage)
    inside, placebo_paid, placebo_gmv, placebo_paying, errors = 0, D(0), D(0), 0, []
    for r in results:
        line = r["sessions"][0]
        low, high = D(line["net_shortfall_low"]), D(line["net_shortfall_high"])
        inside += low <= truth[r["merchant"]] <= high
        if int(r["merchant"][1:]) % 2 == 0:
            placebo_paid += D(line["lost_gmv"])
            placebo_gmv += D(line["actual_gmv"])
            placebo_paying += D(line["lost_gmv"]) > 0
        else:
            errors.append(D(line["net_shortfall"]) - truth[r["merchant"]])
    assert len(results) == 40
    assert inside / len(results) >= 0.85  # 90 % intervals
    # Together the placebo incident's 20 sessions stay within their noise band: it pays nothing
    # (v1 pays on nearly every one).
    assert placebo_paying == 0 and placebo_paid == 0
    for r in results:
        if int(r["merchant"][1:]) % 2 == 0:
            assert ("within_noise" in r["flags"]) == (D(r["sessions"][0]["net_shortfall"]) > 0)
    v1_paid = sum(D(r["sessions"][0]["lost_gmv"]) for r in estimate_incident(placebo, policy_version=1))
    assert v1_paid > placebo_gmv * D("0.05")
    total_truth = sum(truth[r["merchant"]] for r in results if int(r["merchant"][1:]) % 2)
    assert abs(sum(errors)) <= total_truth * D("0.10")


def test_policy_version_1_reproduces_v1_exactly(f):
    m = f.merchant()
    history(f, m, values=clean())
    put(f, m, "today", T0 - OFFSET * MIN, sim.outage(clean(), OFFSET, 20, 0.3, makeup=0.15), ad="1.5")
    incident = f.incident()
    CompensationPolicy.objects.update(is_active=False)
    CompensationPolicy.objects.filter(version=1).update(is_active=True)
    (under_v1,) = assess_incident(incident)  # stored while v1 was the active policy
    CompensationPolicy.objects.update(is_active=False)
    CompensationPolicy.objects.filter(version=2).update(is_active=True)
    (v2,) = assess_incident(incident)
    assert v2.policy.version == 2 and v2.compensation != under_v1.compensation
    again = compute(incident, policy_version=1).merchants[0]
    assert again.fingerprint == under_v1.inputs_fingerprint
    assert again.compensation == under_v1.compensation
    assert again.lost_gmv.quantize(D("0.000001")) == under_v1.lost_gmv
    (reassessed,) = assess_incident(incident, policy_version=1)
    assert reassessed.policy.version == 1 and reassessed.compensation == under_v1.compensation
    assert LossAssessment.objects.filter(incident=incident, is_current=True).count() == 1


def test_estimate_losses_takes_a_policy_version(f, capsys):
    m = f.merchant()
    history(f, m, values=clean())
    put(f, m, "today", T0 - OFFSET * MIN, sim.outage(clean(), OFFSET, 20, 0.0))
    incident = f.incident()
    call_command("estimate_losses", "--incident", incident.key, "--json", "--policy-version", "1")
    v1 = capsys.readouterr().out
    call_command("estimate_losses", "--incident", incident.key, "--json")
    v2 = capsys.readouterr().out
    assert '"policy_version": 1' in v1 and "expected_gmv" not in v1
    assert '"policy_version": 2' in v2 and "expected_gmv" in v2
    with pytest.raises(Exception, match="no policy version 9"):
        call_command("estimate_losses", "--incident", incident.key, "--policy-version", "9")


def test_half_cent_rounds_up_once():
    assert round_cents(Fraction(3, 10) * Fraction(22, 10) / 12) == D("0.06")  # 0.055 exactly
    assert round_cents(Fraction(1, 200)) == D("0.01")
    assert round_cents(Fraction(1, 201)) == D("0.00")


def test_backtest_losses_on_own_data(f, capsys):
    """Placebo windows on unaffected sessions pay (almost) nothing; a synthetic full outage is found."""
    rng = random.Random(11)
    noise = sim.Noise(minute=0.2, drift=0.01)
    m = f.merchant("bt")
    history(f, m, days=8, rng=rng, noise=noise)
    touched = put(f, m, "touched", T0 - OFFSET * MIN, sim.curve(rng, LENGTH, 100.0, SHAPE, noise))
    f.incident()  # hits "touched": it is left out of the backtest
    other = f.merchant("other")
    history(f, other, days=2, values=clean())
    call_command("backtest_losses", "--merchant", "bt", "--days", "60", "--json")
    result = json.loads(capsys.readouterr().out)
    assert result["policy_version"] == 2 and result["merchants"] == 1
    placebo, full = result["placebo"], result["outage_factor_0"]
    assert placebo["windows"] == full["windows"] == 8 * 3  # windows at 60, 90 and 120 minutes
    assert D(placebo["true_gmv"]) == 0
    assert D(placebo["payout_share_of_window_gmv"]) <= D("0.02")
    assert abs(D(full["bias"])) <= D("0.10")
    assert D(full["interval_coverage"]) >= D("0.75")
    assert touched.external_id not in json.dumps(result)
    call_command("backtest_losses", "--days", "60")
    text = capsys.readouterr().out
    assert "placebo: " in text and "2 merchants" in text
    with pytest.raises(Exception, match="no merchant nope"):
        call_command("backtest_losses", "--merchant", "nope")


def test_portable_path_matches_postgresql(f):
    """The SQLite demo computes the same v2 sums with the ORM: profiles, level minutes before and
    after the window, minutes held by an earlier incident, a session starting inside the incident."""
    from losses.engine import window_for
    from losses.model_v2 import session_sums, sums_portable
    from losses.policy import active_policy

    rng = random.Random(5)
    noise = sim.Noise(minute=0.2, drift=0.01)
    a, b = f.merchant("a"), f.merchant("b")
    history(f, a, days=4, rng=rng, noise=noise)
    history(f, b, days=3, rng=rng, noise=noise, region="cn-north")
    put(f, a, "A1", T0 - OFFSET * MIN, sim.outage(clean(), OFFSET, 20, 0.3))
    put(f, a, "A2", T0 + 3 * MIN, clean()[:60])  # starts inside the incident
    put(f, b, "B1", T0 - OFFSET * MIN, clean(), region="cn-north")
    f.incident(T0 - timedelta(days=2) - OFFSET * MIN, T0 - timedelta(days=2) - 80 * MIN)  # a-d2's start only
    f.incident(T0 - timedelta(days=3) + 10 * MIN, T0 - timedelta(days=3) + 15 * MIN)  # inside a-d3's window
    earlier = f.incident(T0 - 20 * MIN, T0 + 5 * MIN, regions=("cn-north",))
    assess_incident(earlier, now=T0 + timedelta(hours=1))  # holds part of B1's window
    incident = f.incident(T0, T0 + 20 * MIN, regions=("cn-east", "cn-north"))
    window = window_for(incident, active_policy(), now=T0 + timedelta(hours=3))
    sql = session_sums(window, pre_min=10)
    portable = sums_portable(window)
    for s in portable:
        s.calibration = next(x.calibration for x in sql if x.session_id == s.session_id)
    assert [s.external_id for s in sql] == ["A1", "A2", "B1"]
    assert sql == portable
    by_id = {s.external_id: s for s in sql}
    assert [p[0] for p in by_id["A1"].profile] == ["a-d1", "a-d2", "a-d4"]
    assert by_id["B1"].excluded == 15 and by_id["A2"].pre_n == 30


def test_every_figure_of_the_explanation_is_arithmetic_on_the_figures_above_it(f):
    """What the claim page, the API and the statement show adds up with a calculator, to the cent:
    expected − actual = net shortfall = counted; Σ counted × margin = lost profit (rounded once);
    ad spend × counted / expected = wasted ad spend (rounded once); lost profit + Σ wasted = loss;
    loss × responsibility = the amount (rounded once). Noisy sessions, odd margins and ad spend,
    a third-party cause (half): products and quotients that leave fractions of a cent."""
    from losses.selectors import explanation

    rng = random.Random(11)
    noise = sim.Noise(minute=0.2, drift=0.01)
    margins = ["0.2975", "0.3333", "0.1234", "0.4567", "0.2222", "0.3791", "0.1111", "0.2468"]
    for k, margin in enumerate(margins):
        m = f.merchant(f"m{k}", margin=D(margin))
        history(f, m, days=4, rng=rng, noise=noise)
        today = sim.outage(sim.curve(rng, LENGTH, 100.0, SHAPE, noise), OFFSET, 20, 0.3 + 0.05 * k, makeup=0.1)
        put(f, m, f"m{k}-today", T0 - OFFSET * MIN, today, ad=f"1.{37 + k}")
    assessments = assess_incident(f.incident(cause="third_party"))
    assert len(assessments) == len(margins)
    cent = D("0.01")
    for assessment in assessments:
        e = explanation(assessment=assessment)
        (x,) = e["lines"]
        assert x["expected"] - x["actual"] == x["net_shortfall"] == x["counted"] > 0
        assert (x["ad_spend"] * x["counted"] / x["expected"]).quantize(cent, ROUND_HALF_UP) == x["wasted_ad_spend"]
        assert e["counted"] == x["counted"]
        assert (e["counted"] * e["margin_rate"]).quantize(cent, ROUND_HALF_UP) == e["lost_profit"]
        assert e["lost_profit"] + e["wasted_ad_spend"] == e["loss"]
        assert e["wasted_ad_spend"] == x["wasted_ad_spend"]
        amount = (e["loss"] * e["responsibility_percent"] / 100).quantize(cent, ROUND_HALF_UP)
        assert amount == e["after_responsibility"] == e["compensation"] == assessment.compensation
