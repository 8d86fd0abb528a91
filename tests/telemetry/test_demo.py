"""The telemetry demo: a month for two providers, one detected incident, one contract by error-rate
windows with a breached quality target, one by incidents; seeding twice changes nothing."""

from datetime import date
from io import StringIO

from incidents import demo as incidents_demo
from incidents.models import Incident
from sla import demo as sla_demo
from sla.models import SLAEvaluation
from telemetry import demo as telemetry_demo
from telemetry.models import TelemetryWindow


def _seed():
    out = StringIO()
    incidents_demo.seed(out)
    telemetry_demo.seed(out)
    sla_demo.seed(out)
    return out.getvalue()


def test_demo(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _seed()
    assert TelemetryWindow.objects.count() == 2 * 2 * 30 * 288
    [incident] = Incident.objects.filter(source="telemetry")
    assert incident.service.code == "nimbus-rtc" and incident.state == "resolved"
    assert incident.duration().total_seconds() == 25 * 60 and incident.impact == "partial_outage"

    nimbus = SLAEvaluation.objects.get(contract_code="NIMBUS-2026", period=date(2026, 11, 1), is_current=True)
    assert nimbus.details["availability_method"] == "error_rate_windows"
    assert [r["minutes"] for r in nimbus.details["runs"]] == [25]
    quality = {q["metric"]: q["breached"] for q in nimbus.details["quality"]}
    assert quality == {"join_p95_ms": True, "hd_share_percent": False}
    assert nimbus.availability_percent == __import__("decimal").Decimal("99.9421")
    assert str(nimbus.credit_percent) == "15.00"
    acme = SLAEvaluation.objects.get(contract_code="RTC-2026", period=date(2026, 11, 1), is_current=True)
    assert acme.details["availability_method"] == "incidents"

    with django_capture_on_commit_callbacks(execute=True):
        assert "(0 new)" in _seed()
    assert Incident.objects.filter(source="telemetry").count() == 1
