"""SLA REST API: staff-only reads, finance-only writes, claim transitions with history."""

from decimal import Decimal

import pytest

from sla import services
from sla.models import ProviderCreditClaim, SLAEvaluation

from .conftest import sh

pytestmark = pytest.mark.django_db
DEC = sh(2026, 12, 5)


@pytest.fixture
def claim(make_contract, make_incident):
    make_contract()
    make_incident(sh(2026, 10, 2, 10), sh(2026, 10, 2, 11))
    services.recompute(pairs=[("RTC-2026", "2026-10")], now=DEC)
    return ProviderCreditClaim.objects.get()


@pytest.mark.parametrize("url", ["/api/sla/contracts/", "/api/sla/evaluations/", "/api/sla/credit-claims/"])
def test_merchant_gets_403_and_anonymous_401_or_403(api_client, make_user, claim, url):
    assert api_client.get(url).status_code in (401, 403)
    api_client.force_authenticate(make_user("mia", "merchant"))
    assert api_client.get(url).status_code == 403
    assert api_client.get(
        f"{url}{SLAEvaluation.objects.get().pk if 'evaluations' in url else claim.pk}/"
    ).status_code in (403, 404)


def test_merchant_cannot_move_claims(api_client, make_user, claim):
    api_client.force_authenticate(make_user("mia", "merchant"))
    assert api_client.post(f"/api/sla/credit-claims/{claim.pk}/file/", {}).status_code == 403
    claim.refresh_from_db()
    assert claim.state == "due"


def test_support_reads_but_cannot_file(api_client, support_user, claim):
    api_client.force_authenticate(support_user)
    data = api_client.get("/api/sla/evaluations/").json()
    [row] = data["results"]
    assert row["contract_code"] == "RTC-2026" and row["period"] == "2026-10"
    assert row["availability_percent"] == "99.8656" and row["credit_amount"] == "20000.00"
    detail = api_client.get(f"/api/sla/evaluations/{row['id']}/").json()
    assert detail["details"]["incidents"][0]["downtime_minutes"] == "60.00"
    contracts = api_client.get("/api/sla/contracts/").json()["results"]
    assert contracts[0]["services"] == ["rtc-audio", "rtc-video"]
    assert api_client.post(f"/api/sla/credit-claims/{claim.pk}/file/", {}).status_code == 403
    assert api_client.post(f"/api/sla/evaluations/{row['id']}/correct/", {"reason": "x"}).status_code == 403


def test_finance_moves_a_claim_through_its_states(api_client, finance_user, claim):
    api_client.force_authenticate(finance_user)
    base = f"/api/sla/credit-claims/{claim.pk}"
    bad = api_client.post(f"{base}/credit/", {"amount_received": "1.00"}, format="json")
    assert bad.status_code == 409 and bad.json()["state"] == "due" and bad.json()["code"] == "state_conflict"
    # The same rule as the page: a reference and the amount the filer saw are required.
    assert api_client.post(f"{base}/file/", {"message": "x"}).status_code == 400
    stale = {"provider_reference": "ACME-CR-9", "amount_claimed": "1.00"}
    assert api_client.post(f"{base}/file/", stale).status_code == 400
    filing = {"provider_reference": "ACME-CR-9", "amount_claimed": "20000.00", "message": "sent by e-mail"}
    r = api_client.post(f"{base}/file/", filing)
    assert r.status_code == 200 and r.json()["state"] == "filed"
    assert api_client.post(f"{base}/acknowledge/", {}).json()["state"] == "acknowledged"
    r = api_client.post(f"{base}/credit/", {"amount_received": "18000.00"}, format="json")
    body = r.json()
    assert body["state"] == "credited" and body["amount_received"] == "18000.00" and body["outstanding"] == "0.00"
    assert [(h["to_state"], h["by"]) for h in body["history"]] == [
        ("filed", "fay-finance"),
        ("acknowledged", "fay-finance"),
        ("credited", "fay-finance"),
    ]
    assert body["history"][0]["message"] == "sent by e-mail"
    assert body["provider_reference"] == "ACME-CR-9"


def test_finance_rejection_needs_reason(api_client, finance_user, claim):
    api_client.force_authenticate(finance_user)
    base = f"/api/sla/credit-claims/{claim.pk}"
    api_client.post(f"{base}/file/", {"provider_reference": "R-1", "amount_claimed": str(claim.amount_claimed)})
    api_client.post(f"{base}/acknowledge/", {})
    assert ProviderCreditClaim.objects.get(pk=claim.pk).state == "acknowledged"
    assert api_client.post(f"{base}/reject/", {}).status_code == 400
    r = api_client.post(f"{base}/reject/", {"message": "disputed root cause"})
    assert r.json()["state"] == "rejected" and r.json()["rejection_reason"] == "disputed root cause"


def test_finance_corrects_a_finalized_evaluation(api_client, finance_user, claim, make_incident):
    make_incident(sh(2026, 10, 9, 0), sh(2026, 10, 9, 1))
    evaluation = SLAEvaluation.objects.get()
    api_client.force_authenticate(finance_user)
    assert api_client.post(f"/api/sla/evaluations/{evaluation.pk}/correct/", {}).status_code == 400
    r = api_client.post(f"/api/sla/evaluations/{evaluation.pk}/correct/", {"reason": "late report"})
    assert r.status_code == 201
    assert r.json()["revision"] == 2 and r.json()["downtime_minutes"] == "120.00"
    current = api_client.get("/api/sla/evaluations/?is_current=true").json()["results"]
    assert [e["revision"] for e in current] == [2]
    assert Decimal(current[0]["credit_amount"]) == Decimal("20000.00")


def test_schema_builds(api_client, support_user):
    api_client.force_authenticate(support_user)
    r = api_client.get("/api/schema/")
    assert r.status_code == 200
    assert b"/api/sla/credit-claims/{id}/file/" in r.content


@pytest.mark.parametrize("url", ["/api/sla/contracts/", "/api/sla/evaluations/", "/api/sla/credit-claims/"])
def test_lists_run_a_constant_number_of_queries_without_the_snapshots(
    api_client, finance_user, make_contract, make_incident, url, django_assert_max_num_queries
):
    """Three contracts and 12 months cost what one contract and 2 months cost; the list of
    evaluations does not load the (large) ``details`` snapshot of every row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api_client.force_authenticate(finance_user)
    make_contract()
    make_incident(sh(2026, 1, 2, 10), sh(2026, 1, 2, 11))
    services.recompute(pairs=[("RTC-2026", "2026-01"), ("RTC-2026", "2026-02")], now=DEC)
    with CaptureQueriesContext(connection) as few:
        assert api_client.get(url).status_code == 200
    for code in ("RTC-B", "RTC-C"):
        make_contract(code=code)
    for month in range(1, 13):
        make_incident(sh(2026, month, 3, 10), sh(2026, month, 3, 11))
    services.recompute(
        pairs=[(c, f"2026-{m:02d}") for c in ("RTC-2026", "RTC-B", "RTC-C") for m in range(1, 13)], now=DEC
    )
    with django_assert_max_num_queries(len(few)) as many:
        response = api_client.get(url)
    assert response.json()["count"] >= 3
    if "evaluations" in url:
        assert response.json()["count"] == 36
        assert not any('"details"' in q["sql"] for q in many.captured_queries)


def test_filing_follows_the_pages_rule_reference_and_current_amount(api_client, finance_user, claim):
    """An empty body filed a claim through the API; the page needs a reference and the amount it showed."""
    api_client.force_authenticate(finance_user)
    url = f"/api/sla/credit-claims/{claim.pk}/file/"
    empty = api_client.post(url, {}, format="json")
    assert empty.status_code == 400 and {"provider_reference", "amount_claimed"} <= set(empty.json())
    blank = api_client.post(url, {"provider_reference": "  ", "amount_claimed": str(claim.amount_claimed)})
    assert blank.status_code == 400
    stale = api_client.post(url, {"provider_reference": "ACME-CR-2", "amount_claimed": "1.00"}, format="json")
    assert stale.status_code == 400 and "amount claimed is now" in stale.json()["detail"]
    claim.refresh_from_db()
    assert claim.state == "due"
    ok = api_client.post(url, {"provider_reference": "ACME-CR-2", "amount_claimed": str(claim.amount_claimed)})
    assert ok.status_code == 200 and ok.json()["state"] == "filed"
