"""The provider scorecard: figures on constructed data, links, API, CSV and PDF."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from incidents.models import Incident, IncidentUpdate, Provider, Service
from sla import scorecard as sc
from sla import services

from .conftest import sh

NOV = datetime(2026, 11, 1).date()


@pytest.fixture
def two_providers(make_contract, windows):
    """Acme (error-rate windows contract, one 15-minute bad run, one quality target breached)
    and Bolt (incidents contract, one resolved provider incident with a postmortem note)."""
    make_contract(
        quality_targets=[{"metric": "join_p95_ms", "max": "600", "min_compliance_percent": "99", "credit_percent": "5"}]
    )
    bolt = Provider.objects.create(name="Bolt Live", kind="rtc")
    Service.objects.create(provider=bolt, code="bolt-rtc", name="Bolt RTC")
    make_contract(code="BOLT-1", services=("bolt-rtc",), provider=bolt, availability_method="incidents")
    windows(sh(2026, 11, 10), 3, failed=100, join_p95_ms=Decimal("900"), peak_concurrent=400)
    windows(sh(2026, 11, 10, 0, 15), 9, failed=0, join_p95_ms=Decimal("500"), peak_concurrent=300)
    windows(sh(2026, 11, 10), 12, region="cn-south", failed=0, join_p95_ms=Decimal("500"), peak_concurrent=250)
    windows(sh(2026, 11, 10), 12, service="bolt-rtc", failed=0, join_p95_ms=Decimal("450"))
    incident = Incident.objects.create(
        source="test",
        external_id="B-1",
        title="Bolt down",
        service=Service.objects.get(code="bolt-rtc"),
        impact="major_outage",
        cause="provider",
        state="resolved",
        started_at=sh(2026, 11, 12, 10),
        detected_at=sh(2026, 11, 12, 10, 5),
        acknowledged_at=sh(2026, 11, 12, 10, 25),
        resolved_at=sh(2026, 11, 12, 11, 40),
    )
    IncidentUpdate.objects.create(incident=incident, kind="note", origin="console", message="Postmortem PM-7 received")
    services.recompute([("RTC-TEL", "2026-11"), ("BOLT-1", "2026-11")], now=datetime(2026, 12, 20, tzinfo=UTC))
    return bolt


def test_scorecard_figures(two_providers):
    acme, bolt = sc.scorecard("rtc", NOV, now=datetime(2026, 12, 20, tzinfo=UTC))
    assert [acme.provider.name, bolt.provider.name] == ["Acme RTC", "Bolt Live"]
    a = acme.stability["availability"]
    # 15 down minutes of 43,200 by windows; incidents: none attributed to the provider.
    assert a["error_rate_windows"] == Decimal("99.9653") and a["incidents"] == Decimal("100.0000")
    assert acme.stability["peak_concurrent"] == 650  # the largest window sum over regions: 400 + 250
    assert acme.quality["join_p95_ms"] == Decimal("550.0")  # request-weighted over 24 rows: (3·900 + 21·500) / 24
    [target] = acme.quality["targets"]
    assert target["breached"] and target["compliance_percent"] == "87.5000"
    b = bolt.stability["availability"]
    assert b["incidents"] == Decimal("99.7685")  # 100 minutes of 43,200
    assert b["error_rate_windows"] == b["mean_error_rate"] == Decimal("100.0000")
    assert bolt.response["first_response_minutes"] == Decimal("20.0")
    assert bolt.response["resolve_minutes"] == Decimal("100.0") and bolt.response["resolve_target"] is None
    assert bolt.response["postmortems"] == 1 and bolt.response["resolved"] == 1
    assert bolt.record["months_under_contract"] == 11
    assert [t["month"] for t in bolt.trend][-1] == NOV and len(bolt.trend) == 12
    assert acme.trend[-1]["availability"] == Decimal("99.9653")


def test_scorecard_page_api_csv_pdf(client, two_providers, support_user, finance_user):
    client.force_login(support_user)
    response = client.get(reverse("sla:scorecard"), {"kind": "rtc", "month": "2026-11"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme RTC" in html and "Bolt Live" in html and "99.9653" in html
    assert reverse("sla:scorecard_windows") + f"?provider={Provider.objects.get(name='Acme RTC').pk}" in html
    windows = client.get(
        reverse("sla:scorecard_windows"),
        {"provider": Provider.objects.get(name="Acme RTC").pk, "month": "2026-11", "down": "1"},
    )
    assert windows.context["page"].paginator.count == 3

    client.force_login(finance_user)
    data = client.get(reverse("sla_api:scorecard"), {"kind": "rtc", "month": "2026-11"}).json()
    assert [p["provider"] for p in data["providers"]] == ["Acme RTC", "Bolt Live"]
    assert data["providers"][0]["stability"]["availability_percent"]["error_rate_windows"] == "99.9653"
    rows = list(
        csv.DictReader(io.StringIO(client.get(reverse("sla:scorecard_csv"), {"month": "2026-11"}).content.decode()))
    )
    assert rows[0]["quality_targets_breached"] == "join_p95_ms" and rows[1]["postmortems"] == "1"
    pdf = client.get(reverse("sla:scorecard_pdf"), {"month": "2026-11"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    client.logout()
    assert client.get(reverse("sla:scorecard")).status_code in (302, 403)
