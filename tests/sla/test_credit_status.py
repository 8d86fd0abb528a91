"""One definition of where provider credits stand (``sla.selectors.credit_status``): due, filed,
received, written off, still due. Every SLA page, the recovery report and every export agree.

The story of the issue: a 70,000.00 claim closed as credited with 60,000.00 (10,000.00 written
off, nothing still due) and a 14,400.00 claim that is only due (still due, not filed)."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from core.errors import InvalidInput
from settlements import exports
from settlements import selectors as finance_selectors
from sla import selectors, services
from sla.models import ProviderCreditClaim

pytestmark = pytest.mark.django_db

EXPECTED = {
    "due": Decimal("84400.00"),
    "filed": Decimal("70000.00"),
    "received": Decimal("60000.00"),
    "written_off": Decimal("10000.00"),
    "still_due": Decimal("14400.00"),
}


@pytest.fixture
def story(evaluated, finance_user):
    credited = ProviderCreditClaim.objects.get(evaluation=evaluated)
    ProviderCreditClaim.objects.filter(pk=credited.pk).update(amount_claimed=Decimal("70000.00"))
    credited.refresh_from_db()
    services.file_claim(claim=credited, by=finance_user, reference="ACME-CN-1", amount_claimed=Decimal("70000.00"))
    services.acknowledge_claim(claim=credited, by=finance_user)
    services.credit_claim(claim=credited, by=finance_user, amount=Decimal("60000.00"))
    due_only = ProviderCreditClaim.objects.create(
        evaluation=evaluated,
        contract_code="RTC-2026-B",
        period=evaluated.period,
        provider=credited.provider,
        currency="CNY",
        amount_claimed=Decimal("14400.00"),
        claim_deadline=credited.claim_deadline,
    )
    credited.refresh_from_db()
    return credited, due_only


def test_the_definition_per_claim_and_summed(story):
    credited, due_only = story
    c = credited.credit_figures
    assert (c.due, c.filed, c.received, c.written_off, c.still_due) == (
        Decimal("70000.00"),
        Decimal("70000.00"),
        Decimal("60000.00"),
        Decimal("10000.00"),
        Decimal("0.00"),
    )
    d = due_only.credit_figures
    assert (d.due, d.filed, d.received, d.written_off, d.still_due) == (
        Decimal("14400.00"),
        Decimal("0.00"),  # only due: not counted as claimed/filed
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("14400.00"),
    )
    assert credited.outstanding == Decimal("0.00")
    [total] = selectors.credit_totals(claims=ProviderCreditClaim.objects.all())[None]
    assert {k: getattr(total, k) for k in EXPECTED} == EXPECTED and total.currency == "CNY" and total.claims == 2


def test_a_rejected_claim_is_written_off_entirely(evaluated, finance_user):
    claim = ProviderCreditClaim.objects.get(evaluation=evaluated)
    services.file_claim(claim=claim, by=finance_user, reference="R-1", amount_claimed=claim.amount_claimed)
    services.acknowledge_claim(claim=claim, by=finance_user)
    services.reject_claim(claim=claim, by=finance_user, reason="out of scope")
    claim.refresh_from_db()
    f = claim.credit_figures
    assert (f.filed, f.received, f.written_off, f.still_due) == (claim.amount_claimed, 0, claim.amount_claimed, 0)


def test_more_received_than_claimed_is_refused(evaluated, finance_user):
    claim = ProviderCreditClaim.objects.get(evaluation=evaluated)
    services.file_claim(claim=claim, by=finance_user, reference="R-2", amount_claimed=claim.amount_claimed)
    services.acknowledge_claim(claim=claim, by=finance_user)
    with pytest.raises(InvalidInput) as refused:
        services.credit_claim(claim=claim, by=finance_user, amount=claim.amount_claimed + Decimal("0.01"))
    assert refused.value.field == "amount_received"


def _figures(html: str, figure: str) -> Decimal:
    """The first amount in the element carrying data-figure=<figure> (a cell, a row or a value)."""
    start = html.index(f'data-figure="{figure}"')
    text = re.sub(r"<[^>]+>", " ", html[html.index(">", start) + 1 : start + 800])
    return Decimal(re.search(r"-?[\d,]+\.\d{2}", text).group().replace(",", ""))


def test_every_page_shows_the_same_figures(client, finance_user, story):
    credited, due_only = story
    client.force_login(finance_user)
    pages = {
        "provider": client.get(reverse("sla:provider", args=[credited.provider_id])).content.decode(),
        "index": client.get(reverse("sla:index")).content.decode(),
        "scorecard": client.get(reverse("sla:scorecard"), {"kind": "rtc", "month": "2026-10"}).content.decode(),
        "recovery": client.get(reverse("finance:recovery")).content.decode(),
    }
    for name, html in pages.items():
        for figure, value in EXPECTED.items():
            assert _figures(html, figure) == value, (name, figure)
    # The claim pages: the credited one has nothing still due, the due one nothing filed.
    page = client.get(reverse("sla:claim", args=[credited.pk])).content.decode()
    assert _figures(page, "still_due") == 0 and _figures(page, "written_off") == 10000
    page = client.get(reverse("sla:claim", args=[due_only.pk])).content.decode()
    assert _figures(page, "filed") == 0 and _figures(page, "still_due") == 14400


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_every_export_shows_the_same_figures(client, api_client, finance_user, story):
    client.force_login(finance_user)
    # Scorecard CSV: one row per provider.
    rows = _csv(client.get(reverse("sla:scorecard_csv"), {"kind": "rtc", "month": "2026-10"}).content)
    header, acme = rows[0], next(r for r in rows[1:] if r[0] == "Acme RTC")
    assert {k: Decimal(acme[header.index(f"credits_{k}")]) for k in EXPECTED} == EXPECTED
    # Scorecard PDF.
    pdf = client.get(reverse("sla:scorecard_pdf"), {"kind": "rtc", "month": "2026-10"}).content
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    for label, value in (("Credits due", "84,400.00"), ("Written off", "10,000.00"), ("Still due", "14,400.00")):
        assert f"{label} {value} CNY" in text, label
    # Recovery report CSV: the month row and the totals table.
    response = client.get(reverse("finance:recovery"), {"format": "csv"})
    assert response["Content-Disposition"].startswith("attachment")
    rows = _csv(b"".join(response.streaming_content))
    header = rows[0]
    month = next(r for r in rows[1:] if r and r[0] == "2026-10")
    assert {k: Decimal(month[header.index(f"credits_{k}")]) for k in EXPECTED} == EXPECTED
    totals_at = rows.index(exports.RECOVERY_TOTAL_COLUMNS)
    total = rows[totals_at + 1]
    assert total[:2] == ["TOTAL", "CNY"]
    assert {k: Decimal(total[exports.RECOVERY_TOTAL_COLUMNS.index(f"credits_{k}")]) for k in EXPECTED} == EXPECTED
    # The APIs.
    api_client.force_authenticate(finance_user)
    body = api_client.get("/api/finance/recovery/").json()
    [row] = [r for r in body["rows"] if r["month"] == "2026-10"]
    assert {k: Decimal(row[f"credit_{k}"]) for k in EXPECTED} == EXPECTED
    claims = api_client.get("/api/sla/credit-claims/").json()
    claims = claims.get("results", claims)
    by_contract = {c["contract_code"]: c for c in claims}
    assert by_contract["RTC-2026"]["credit_figures"]["still_due"] == "0.00"
    assert by_contract["RTC-2026"]["credit_figures"]["written_off"] == "10000.00"
    assert by_contract["RTC-2026-B"]["credit_figures"]["filed"] == "0.00"


def test_recovery_report_counts_a_due_claim_as_due_not_filed(story):
    rows = finance_selectors.recovery_report(start=date(2026, 10, 1), end=date(2026, 10, 31))
    [row] = rows
    assert row["credit_filed"] == Decimal("70000.00") and row["credit_due"] == Decimal("84400.00")
