"""The provider scorecard: figures on constructed data, links, API, CSV and PDF."""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

from django.urls import reverse

from incidents.models import Provider
from sla import scorecard as sc

NOV = datetime(2026, 11, 1).date()


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
