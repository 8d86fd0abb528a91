"""manage.py import_contracts and sla_evaluate."""

import copy
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sla import services
from sla.models import SLAContract

from .conftest import sh

pytestmark = pytest.mark.django_db

CONTRACT = {
    "code": "RTC-2026",
    "provider": "Acme RTC",
    "services": ["rtc-video", "rtc-audio"],
    "currency": "CNY",
    "monthly_fee": "200000.00",
    "timezone": "Asia/Shanghai",
    "effective_from": "2026-01-01",
    "effective_to": None,
    "availability_target": "99.95",
    "partial_outage_weight": "0.5",
    "degraded_weight": "0",
    "maintenance_notice_hours": 48,
    "credit_tiers": [
        {"below": "99.95", "credit_percent": "10"},
        {"below": "99.0", "credit_percent": "25"},
        {"below": "95.0", "credit_percent": "100"},
    ],
    "credit_cap_percent": "100",
    "recovery_targets": [{"impact": "major_outage", "max_minutes": 30, "credit_percent": "5"}],
    "first_response_minutes": 15,
    "claim_window_days": 30,
}


def write(tmp_path, items):
    path = tmp_path / "contracts.json"
    path.write_text(json.dumps(items))
    return str(path)


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_creates_then_is_idempotent(acme, tmp_path):
    path = write(tmp_path, [CONTRACT])
    assert "1 created" in run("import_contracts", path)
    contract = SLAContract.objects.get(code="RTC-2026", version=1)
    assert sorted(s.code for s in contract.services.all()) == ["rtc-audio", "rtc-video"]
    assert str(contract.availability_target) == "99.9500"
    assert contract.timezone == "Asia/Shanghai" and contract.min_downtime_minutes == 0
    assert "1 unchanged" in run("import_contracts", path)
    changed = dict(CONTRACT, monthly_fee="210000.00")
    assert "1 updated" in run("import_contracts", write(tmp_path, [changed]))
    assert SLAContract.objects.count() == 1


def test_import_errors_name_index_and_field(acme, tmp_path):
    bad = copy.deepcopy(CONTRACT)
    bad["code"] = "OTHER"
    bad["availability_target"] = 99.95  # a float: ambiguous
    bad["services"] = ["rtc-video", "cdn-live", "nope"]
    bad["credit_tiers"][1]["credit_percent"] = "abc"
    bad["recovery_targets"][0]["impact"] = "total_meltdown"
    bad["timezone"] = "Mars/Olympus"
    bad["effective_to"] = "2025-12-31"
    bad["surprise"] = 1
    with pytest.raises(CommandError) as err:
        run("import_contracts", write(tmp_path, [CONTRACT, bad]))
    text = str(err.value)
    for expected in [
        "[1].availability_target: must be a decimal string",
        "[1].services[1]: service 'cdn-live' belongs to SwiftCDN, not Acme RTC",
        "[1].services[2]: unknown service 'nope'",
        "[1].credit_tiers[1].credit_percent: is not a decimal number",
        "[1].recovery_targets[0].impact: must be one of",
        "[1].timezone: unknown time zone 'Mars/Olympus'",
        "[1].effective_to: is before effective_from",
        "[1].surprise: unknown field",
    ]:
        assert expected in text
    assert "\n  [0]" not in text  # the valid first item has no error
    assert not SLAContract.objects.exists()  # all or nothing


def test_import_refuses_missing_fields_and_bad_json(acme, tmp_path):
    with pytest.raises(CommandError, match=r"\[0\].monthly_fee: is required"):
        run("import_contracts", write(tmp_path, [{k: v for k, v in CONTRACT.items() if k != "monthly_fee"}]))
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(CommandError, match="not valid JSON"):
        run("import_contracts", str(path))
    with pytest.raises(CommandError, match="JSON list"):
        run("import_contracts", write(tmp_path, CONTRACT))


def test_amendment_is_a_new_version_and_locked_version_is_refused(acme, tmp_path):
    run("import_contracts", write(tmp_path, [CONTRACT]))
    services.recompute(pairs=[("RTC-2026", "2026-10")], now=sh(2026, 12, 5))  # finalized: v1 now locked
    with pytest.raises(CommandError, match="cannot be edited; import the change as version 2"):
        run("import_contracts", write(tmp_path, [dict(CONTRACT, monthly_fee="1.00")]))
    overlapping = dict(CONTRACT, version=2, effective_from="2027-01-01", monthly_fee="250000.00")
    with pytest.raises(CommandError, match="version 1 is still in effect"):
        run("import_contracts", write(tmp_path, [overlapping]))
    v1_closed = dict(CONTRACT, effective_to="2026-12-31")
    with pytest.raises(CommandError, match="cannot be edited"):
        run("import_contracts", write(tmp_path, [v1_closed, overlapping]))
    assert SLAContract.objects.count() == 1


def test_amendment_of_unused_contract(acme, tmp_path):
    v1 = dict(CONTRACT, effective_to="2026-12-31")
    v2 = dict(CONTRACT, version=2, effective_from="2027-01-01", monthly_fee="250000.00")
    assert "2 created" in run("import_contracts", write(tmp_path, [v1, v2]))
    assert list(SLAContract.objects.values_list("version", flat=True).order_by("version")) == [1, 2]


def test_sla_evaluate_json(make_contract, make_incident):
    make_contract()
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 12), external_id="ACME-77")  # 120 min > 90: breach
    make_incident(sh(2026, 10, 3, 10), sh(2026, 10, 3, 10, 30), impact="partial_outage")
    data = json.loads(run("sla_evaluate", "--contract", "RTC-2026", "--period", "2026-10", "--json"))
    assert data["contract"] == "RTC-2026" and data["period"] == "2026-10"
    assert data["eligible_minutes"] == "44640.00"
    assert data["excluded_minutes"] == "0.00"
    assert data["downtime_minutes"] == "135.00"
    # (44640 - 135) / 44640 * 100 = 99.69758...
    assert data["availability_percent"] == "99.6976"
    assert data["tier_credit_percent"] == "10.00"
    assert [(b["incident"], b["minutes"], b["max_minutes"]) for b in data["recovery_breaches"]] == [
        ("ACME-77", "120.00", 90)
    ]
    assert data["response_breaches"] == []
    assert data["credit_percent"] == "15.00"
    assert data["credit_amount"] == "30000.00"
    assert data["currency"] == "CNY"
    assert data["claim_deadline"] == "2026-11-30"
    assert data["provisional"] is False


def test_sla_evaluate_errors(make_contract):
    make_contract()
    with pytest.raises(CommandError, match="YYYY-MM"):
        run("sla_evaluate", "--contract", "RTC-2026", "--period", "2026-13")
    with pytest.raises(CommandError, match="unknown contract"):
        run("sla_evaluate", "--contract", "NOPE", "--period", "2026-10")
    assert "availability" in run("sla_evaluate", "--contract", "RTC-2026", "--period", "2026-10")
