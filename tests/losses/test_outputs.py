"""The estimate_losses command, the chart selector, the pool arithmetic and the policy admin."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from losses.engine import assess_incident, largest_remainder
from losses.models import CompensationPolicy
from losses.selectors import gmv_chart_series

from .conftest import MIN, T0
from .test_engine import standard_session

pytestmark = pytest.mark.usefixtures("v1_active")  # loss model v1's rules


def test_estimate_losses_json(f, capsys):
    standard_session(f, f.merchant("tea"))
    incident = f.incident()
    call_command("estimate_losses", "--incident", incident.key, "--json")
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 1
    m = data[0]
    assert m["merchant"] == "tea"
    assert (m["responsibility_percent"], m["compensation_before_pool"], m["compensation"], m["flags"]) == (
        "100.00",
        "576.00",
        "576.00",
        [],
    )
    s = m["sessions"][0]
    assert set(s) >= {
        "session_id",
        "affected_minutes",
        "baseline_method",
        "baseline_gmv_per_minute",
        "actual_gmv",
        "lost_gmv",
        "lost_profit",
        "wasted_ad_spend",
    }
    assert (s["session_id"], s["affected_minutes"], s["baseline_method"]) == ("S1", 30, "pre_incident")
    assert all(isinstance(s[k], str) for k in ("baseline_gmv_per_minute", "actual_gmv", "lost_gmv", "lost_profit"))
    assert not incident.loss_assessments.exists()  # read-only
    call_command("estimate_losses", "--incident", incident.key, "--save")
    assert "576.00" in capsys.readouterr().out and incident.loss_assessments.count() == 1


def test_gmv_chart_series(f):
    session = standard_session(f, f.merchant())
    incident = f.incident()
    fresh = gmv_chart_series(line_or_session=session, incident=incident)  # no assessment yet: estimated
    line = assess_incident(incident)[0].lines.get()
    stored = gmv_chart_series(line_or_session=line, incident=incident)
    for chart in (fresh, stored):
        assert chart["baseline_method"] == "pre_incident" and chart["baseline"] == "100.00"
        assert chart["outage"] == {"start": T0.isoformat(), "end": (T0 + 20 * MIN).isoformat()}
        assert chart["affected"] == {"start": T0.isoformat(), "end": (T0 + 30 * MIN).isoformat()}
        points = chart["points"]
        assert points[0]["minute"] == (T0 - 60 * MIN).isoformat() and len(points) == 120
        affected = [p for p in points if p["affected"]]
        assert len(affected) == 30 and {p["gmv"] for p in affected} == {"40.00"}


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30), st.integers(1, 10**8))
def test_largest_remainder_sums_exactly_to_the_pool(cents, pool_cents):
    amounts = [Decimal(c) / 100 for c in cents]
    total = sum(cents)
    if total <= pool_cents:
        return
    pool = Decimal(pool_cents) / 100
    scaled = largest_remainder(amounts, pool)
    assert sum(scaled) == pool
    for amount, share in zip(amounts, scaled, strict=True):
        exact = amount * pool / (Decimal(total) / 100)
        assert abs(share - exact) < Decimal("0.01")
        assert share == share.quantize(Decimal("0.01"))


def test_policy_admin_saves_a_new_version(admin_client):
    v1 = CompensationPolicy.objects.get(is_active=True)
    url = f"/admin/losses/compensationpolicy/{v1.pk}/change/"
    response = admin_client.get(url)
    assert response.status_code == 200
    form = response.context["adminform"].form
    data = {name: form.initial.get(name) for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["claim_cap"] = "40000.00"
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    v1.refresh_from_db()
    v2 = CompensationPolicy.objects.get(is_active=True)
    assert (v1.version, v1.claim_cap, v1.is_active) == (1, Decimal("50000.00"), False)
    assert (v2.version, v2.claim_cap, v2.supersedes_id) == (3, Decimal("40000.00"), v1.pk)  # 2 is loss model v2


def test_voided_incident_retires_its_assessments(f):
    from incidents.models import Incident

    standard_session(f, f.merchant())
    incident = f.incident()
    assert len(assess_incident(incident, now=T0 + timedelta(hours=1))) == 1
    Incident.objects.filter(pk=incident.pk).update(state="voided", resolved_at=None)
    incident.refresh_from_db()
    assert assess_incident(incident) == []
    assert not incident.loss_assessments.filter(is_current=True).exists()


def test_estimate_losses_save_prints_what_it_stored(f, capsys):
    standard_session(f, f.merchant("tea"))
    incident = f.incident(end=None)  # open: its window runs until now + tail
    call_command("estimate_losses", "--incident", incident.key, "--save", "--json")
    (printed,) = json.loads(capsys.readouterr().out)
    stored = incident.loss_assessments.get(is_current=True)
    assert printed["inputs_fingerprint"] == stored.inputs_fingerprint
    assert printed["compensation"] == str(stored.compensation) and "ongoing" in printed["flags"]


def test_assessment_admin_is_read_only_with_labels_and_constant_queries(f, admin_client, django_assert_max_num_queries):
    for k in range(8):
        standard_session(f, f.merchant("m0"), sid=f"S{k}")  # one assessment with 8 lines
    for k in range(1, 4):
        standard_session(f, f.merchant(f"m{k}"), sid=f"T{k}")
    (first, *_) = assess_incident(f.incident(cause="unknown"))
    response = admin_client.get("/admin/losses/lossassessment/")
    page = response.content.decode()
    assert response.status_code == 200 and page.count("Unknown cause (review)") == 4
    assert "Third party" in page  # the cause filter shows labels, not codes
    with django_assert_max_num_queries(12):
        response = admin_client.get(f"/admin/losses/lossassessment/{first.pk}/change/")
    assert response.status_code == 200 and response.content.count(b"S7 (rtc-video/cn-east)") == 1
    assert b'name="_save"' not in response.content
    assert admin_client.post(f"/admin/losses/lossassessment/{first.pk}/change/", {}).status_code == 403


def test_gmv_chart_of_a_stored_line_reads_only_its_minutes(f, django_assert_num_queries):
    standard_session(f, f.merchant(currency="USD"))
    incident = f.incident()
    (assessment,) = assess_incident(incident)
    (line,) = assessment.lines.select_related("session")
    with django_assert_num_queries(1):  # the session's minutes; nothing per line besides
        chart = gmv_chart_series(line_or_session=line, incident=incident)
    assert chart["currency"] == "USD" and len(chart["points"]) == 120
