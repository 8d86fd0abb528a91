"""Edges of the loss rules that a plausible slip in the engine would cross (README, loss engine)."""

from datetime import timedelta
from decimal import Decimal

import pytest

from incidents.models import Incident
from losses.engine import assess_incident, estimate_incident, largest_remainder

from .conftest import MIN, T0
from .test_engine import only, standard_session

pytestmark = pytest.mark.usefixtures("v1_active")  # loss model v1's rules

D = Decimal


def test_only_current_assessments_of_incidents_not_voided_hold_minutes(f):
    m = f.merchant()
    standard_session(f, m)  # T0-60 .. T0+60 in cn-east
    first = f.incident(T0, T0 + 20 * MIN)  # window [T0, T0+30)
    assess_incident(first, now=T0 + timedelta(hours=1))
    second = f.incident(T0 + 10 * MIN, T0 + 40 * MIN)  # window [T0+10, T0+50)
    line = only(only(estimate_incident(second, now=T0 + timedelta(hours=2)))["sessions"])
    assert (line["affected_minutes"], line["excluded_minutes"]) == (20, 20)
    # voided, even before its assessments are retired: its minutes are free again
    Incident.objects.filter(pk=first.pk).update(state="voided", resolved_at=None)
    line = only(only(estimate_incident(second, now=T0 + timedelta(hours=2)))["sessions"])
    assert (line["affected_minutes"], line["excluded_minutes"]) == (40, 0)
    # no longer current (the first incident turned out to be elsewhere): free as well
    Incident.objects.filter(pk=first.pk).update(state="resolved", resolved_at=T0 + 20 * MIN)
    first.refresh_from_db()
    first.regions.set([f.world["regions"]["cn-north"]])
    assert assess_incident(first, now=T0 + timedelta(hours=3)) == []
    line = only(only(estimate_incident(second, now=T0 + timedelta(hours=4)))["sessions"])
    assert (line["affected_minutes"], line["excluded_minutes"]) == (40, 0)


def test_voided_incident_has_no_estimate(f):
    standard_session(f, f.merchant())
    incident = f.incident()
    assert len(estimate_incident(incident)) == 1
    Incident.objects.filter(pk=incident.pk).update(state="voided", resolved_at=None)
    incident.refresh_from_db()
    assert estimate_incident(incident) == []  # what assess_incident would store: nothing


def test_baseline_is_not_rounded_before_the_end(f):
    m = f.merchant()
    session = f.session(m, "S1", T0 - 10 * MIN, T0 + 60 * MIN)
    # baseline (9 x 10.00 + 10.01) / 10 = 10.001; 30 affected minutes sell nothing
    f.metrics(session, T0 - 10 * MIN, 70, lambda i: "10.01" if i == 0 else "10.00" if i < 10 else "0")
    r = only(estimate_incident(f.incident()))
    line = only(r["sessions"])
    assert line["baseline_gmv_per_minute"] == "10.001000"
    assert D(line["lost_gmv"]) == D("300.03")
    assert r["compensation"] == "90.01"  # 300.03 x 0.30 = 90.009 (a baseline of 10.00 would give 90.00)


@pytest.mark.parametrize(
    ("per_minute", "before_cap", "compensation", "flags"),
    [("3333.33", "49999.95", "49999.95", []), ("3333.35", "50000.00", "50000.00", ["capped"])],
)
def test_cap_per_claim_boundary(f, per_minute, before_cap, compensation, flags):
    # 30 lost minutes x baseline x margin 0.5: 49,999.95 stays, 50,000.25 is capped
    standard_session(f, f.merchant(margin=D("0.5")), before=per_minute, during="0", ad="0")
    r = only(estimate_incident(f.incident()))
    assert (r["compensation_before_pool"], r["compensation"], r["flags"]) == (before_cap, compensation, flags)


def test_currency_mismatch_is_flagged(f):
    standard_session(f, f.merchant(currency="USD"))
    r = only(estimate_incident(f.incident()))
    assert (r["currency"], r["compensation"], r["flags"]) == ("USD", "576.00", ["currency_mismatch"])


def test_default_pool_is_shared_by_largest_remainder_in_merchant_code_order(f):
    # 21 claims capped at 50,000.00 exceed the default pool of 1,000,000.00: each gets
    # 47,619.047…; the 16 cents left over go to the first 16 merchant codes (equal remainders).
    # Merchants are created in reverse code order so that id order and code order differ.
    for k in reversed(range(21)):
        standard_session(f, f.merchant(f"m{k:02d}", margin=D("0.6")), sid=f"S{k}", before="3000", during="0")
    estimate = estimate_incident(f.incident())
    assert [r["merchant"] for r in estimate] == [f"m{k:02d}" for k in range(21)]
    assert {r["compensation_before_pool"] for r in estimate} == {"50000.00"}
    assert [r["compensation"] for r in estimate] == ["47619.05"] * 16 + ["47619.04"] * 5
    assert sum(D(r["compensation"]) for r in estimate) == D("1000000.00")
    assert all(r["flags"] == ["capped", "pool_scaled"] for r in estimate)


def test_largest_remainder_gives_left_over_cents_to_the_largest_remainders():
    # 3.01, 2.00, 1.00 scaled to 3.00: exact shares 1.5025, 0.9983, 0.4992 -> floors 1.50, 0.99,
    # 0.49; the two cents left go to the largest remainders (0.4992, 0.9983), not the first items.
    assert largest_remainder([D("3.01"), D("2.00"), D("1.00")], D("3.00")) == [D("1.50"), D("1.00"), D("0.50")]
