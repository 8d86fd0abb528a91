"""The claims API: one POST per transition, 409 on a refused state, scoping, evidence, notifications,
pagination with a constant number of queries, and the OpenAPI schema."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims import services
from claims.models import Claim, ClaimState
from tests.factories import PNG, IncidentFactory

pytestmark = pytest.mark.django_db
BASE = "/api/claims/claims/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def post(client, user, url, data=None, fmt="json"):
    client.force_authenticate(user)
    return client.post(url, data or {}, format=fmt)


def test_full_path_through_the_api(api_client, proposed, merchant_user, support_user, support_user_2):
    r = post(api_client, merchant_user, f"{BASE}{proposed.pk}/submit/")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "submitted"
    assert post(api_client, support_user, f"{BASE}{proposed.pk}/start-review/").json()["state"] == "under_review"
    r = post(
        api_client,
        support_user,
        f"{BASE}{proposed.pk}/partially-approve/",
        {"amount": "700.00", "reason": "baseline_adjusted", "message": "Baseline was lower."},
    )
    assert r.status_code == 200 and r.json()["approved_amount"] == "700.00"
    r = post(
        api_client,
        merchant_user,
        f"{BASE}{proposed.pk}/dispute/",
        {"reason": "amount_disagreement", "statement": "Sales were higher."},
    )
    assert r.json()["state"] == "disputed"
    assert post(api_client, support_user, f"{BASE}{proposed.pk}/start-review/").status_code == 403
    assert post(api_client, support_user_2, f"{BASE}{proposed.pk}/start-review/").status_code == 200
    r = post(api_client, support_user_2, f"{BASE}{proposed.pk}/approve/", {"reason": "loss_confirmed", "message": "OK"})
    assert r.json()["state"] == "approved" and r.json()["approved_amount"] == "1200.00"
    api_client.force_authenticate(merchant_user)
    detail = api_client.get(f"{BASE}{proposed.pk}/").json()
    assert detail["allowed_actions"] == ["accept"]
    assert [e["action"] for e in detail["events"]][-2:] == ["start_review", "approve"]


def test_409_when_the_state_does_not_allow(api_client, proposed, merchant_user, support_user):
    r = post(api_client, support_user, f"{BASE}{proposed.pk}/approve/", {"reason": "loss_confirmed", "message": "x"})
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "state_conflict" and body["state"] == "proposed" and "Proposed" in body["detail"]
    r = post(api_client, merchant_user, f"{BASE}{proposed.pk}/accept/")
    assert r.status_code == 409
    assert Claim.objects.get(pk=proposed.pk).state == ClaimState.PROPOSED


def test_403_wrong_role_404_wrong_owner(api_client, proposed, other_merchant_user, support_user, finance_user):
    assert post(api_client, support_user, f"{BASE}{proposed.pk}/submit/").status_code == 403
    assert post(api_client, finance_user, f"{BASE}{proposed.pk}/start-review/").status_code == 403
    # Another merchant does not even see the claim.
    assert post(api_client, other_merchant_user, f"{BASE}{proposed.pk}/submit/").status_code == 404
    api_client.force_authenticate(other_merchant_user)
    assert api_client.get(f"{BASE}{proposed.pk}/").status_code == 404
    assert api_client.get(BASE).json()["results"] == []


def test_staff_cannot_file_a_claim(api_client, incident, merchant, support_user):
    """Staff see every merchant, so filing is refused for the role (403), not hidden (404)."""
    data = {"merchant": merchant.pk, "incident": incident.pk, "claimed_amount": "10", "statement": "x"}
    r = post(api_client, support_user, BASE, {**data, "documents": [SimpleUploadedFile("s.png", PNG)]}, "multipart")
    assert r.status_code == 403 and r.json()["code"] == "not_permitted"
    assert not Claim.objects.exists()


def test_400_on_bad_input(api_client, proposed, merchant_user, support_user, flow):
    flow.under_review(proposed)
    r = post(api_client, support_user, f"{BASE}{proposed.pk}/reject/", {"reason": "nope", "message": "x"})
    assert r.status_code == 400
    r = post(api_client, support_user, f"{BASE}{proposed.pk}/reject/", {"reason": "duplicate"})
    assert r.status_code == 400


def test_file_claim_and_evidence_over_the_api(api_client, incident, merchant, merchant_user, support_user):
    api_client.force_authenticate(merchant_user)
    r = api_client.post(
        BASE,
        {
            "merchant": merchant.pk,
            "incident": incident.pk,
            "claimed_amount": "250.00",
            "statement": "LS-9 froze",
            "session_reference": "LS-9",
            "documents": [SimpleUploadedFile("s.png", PNG)],
        },
        format="multipart",
    )
    assert r.status_code == 201, r.json()
    claim_id = r.json()["id"]
    assert r.json()["state"] == "draft" and len(r.json()["documents"]) == 1
    bad = api_client.post(
        f"{BASE}{claim_id}/documents/", {"file": SimpleUploadedFile("x.pdf", b"not a pdf at all")}, format="multipart"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "bad_type"
    ok = api_client.post(
        f"{BASE}{claim_id}/documents/", {"file": SimpleUploadedFile("orders.csv", b"a,b\n1,2\n")}, format="multipart"
    )
    assert ok.status_code == 201 and ok.json()["kind"] == "csv"
    download = api_client.get(ok.json()["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"a,b\n1,2\n"
    # A duplicate claim for the same incident is refused with 409.
    again = api_client.post(
        BASE,
        {
            "merchant": merchant.pk,
            "incident": incident.pk,
            "claimed_amount": "1",
            "statement": "again",
            "documents": [SimpleUploadedFile("s.png", PNG)],
        },
        format="multipart",
    )
    assert again.status_code == 409
    api_client.force_authenticate(support_user)
    assert api_client.get(ok.json()["download_url"]).status_code == 200


def test_evidence_invisible_to_other_merchants(api_client, proposed, merchant_user, other_merchant_user):
    doc = services.add_evidence(claim=proposed, by=merchant_user, upload=SimpleUploadedFile("s.png", PNG))
    api_client.force_authenticate(other_merchant_user)
    assert api_client.get(f"{BASE}{proposed.pk}/documents/{doc.pk}/download/").status_code == 404
    assert api_client.get(f"{BASE}{proposed.pk}/documents/").status_code == 404


def test_notifications(api_client, proposed, merchant_user):
    api_client.force_authenticate(merchant_user)
    r = api_client.get("/api/claims/notifications/?unread=1")
    assert r.json()["count"] == 1
    nid = r.json()["results"][0]["id"]
    assert api_client.post(f"/api/claims/notifications/{nid}/read/").json()["read_at"] is not None
    assert api_client.get("/api/claims/notifications/?unread=1").json()["count"] == 0


def test_bulk_approve_api(api_client, incident, merchant, other_merchant, support_user, merchant_user):
    services.propose(incident=incident, merchant=merchant, amount="100", currency="CNY")
    services.propose(incident=incident, merchant=other_merchant, amount="900", currency="CNY")
    r = post(api_client, support_user, "/api/claims/bulk-approve/", {"incident": incident.pk, "threshold": "500"})
    assert r.status_code == 200 and [c["state"] for c in r.json()] == ["approved"]
    assert (
        post(
            api_client, merchant_user, "/api/claims/bulk-approve/", {"incident": incident.pk, "threshold": "1"}
        ).status_code
        == 403
    )


def _many_claims(n, merchants, staff, prefix):
    for i in range(n):
        inc = IncidentFactory(external_id=f"{prefix}-{i}")
        for m in merchants:
            claim = services.propose(incident=inc, merchant=m, amount=Decimal("10") + i, currency="CNY")
            if i % 2:
                services.start_review(claim=services.submit(claim=claim, by=m._user), by=staff)


@pytest.mark.parametrize("role", ["merchant", "support"])
def test_list_queries_are_constant(
    api_client, merchant, merchant_user, support_user, django_assert_max_num_queries, role
):
    merchant._user = merchant_user
    user = merchant_user if role == "merchant" else support_user
    _many_claims(3, [merchant], support_user, "A")
    api_client.force_authenticate(user)
    with django_assert_max_num_queries(8) as small:
        assert api_client.get(BASE).status_code == 200
    _many_claims(12, [merchant], support_user, "B")
    with django_assert_max_num_queries(len(small.captured_queries)) as big:
        r = api_client.get(BASE)
    assert len(r.json()["results"]) == 15 and r.json()["next"] is None
    assert len(big.captured_queries) == len(small.captured_queries)


def test_notification_list_queries_are_constant(api_client, merchant, merchant_user, django_assert_max_num_queries):
    for i in range(20):
        services.propose(incident=IncidentFactory(external_id=f"N-{i}"), merchant=merchant, amount="1", currency="CNY")
    api_client.force_authenticate(merchant_user)
    with django_assert_max_num_queries(5):
        assert api_client.get("/api/claims/notifications/").json()["count"] == 20


def test_schema_lists_the_transitions(api_client, support_user):
    api_client.force_authenticate(support_user)
    schema = api_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for action in [
        "submit",
        "start-review",
        "request-info",
        "answer",
        "approve",
        "partially-approve",
        "reject",
        "confirm-approval",
        "accept",
        "dispute",
        "withdraw",
        "settle",
    ]:
        op = paths[f"/api/claims/claims/{{id}}/{action}/"]["post"]
        assert "409" in op["responses"], action
    assert "/api/claims/notifications/" in paths and "/api/claims/bulk-approve/" in paths


def test_claim_list_is_cursor_paged_newest_first_without_gaps(api_client, merchant, support_user):
    """Pages follow ``next`` by cursor: every claim once, newest first, also when many share a
    creation time (the cursor then counts past the equal ones)."""
    incidents = [IncidentFactory(external_id=f"P-{i}") for i in range(120)]
    made = Claim.objects.bulk_create(
        Claim(incident=inc, merchant=merchant, origin="system", currency="CNY", computed_amount=Decimal("1"))
        for inc in incidents
    )
    tied = [c.pk for c in made[60:90]]  # 30 equal times, newest-first positions 30-59: across page 1 | 2
    Claim.objects.filter(pk__in=tied).update(created_at=Claim.objects.get(pk=tied[0]).created_at)
    api_client.force_authenticate(support_user)
    seen, url, pages = [], BASE, 0
    while url:
        body = api_client.get(url).json()
        assert "count" not in body and len(body["results"]) <= 50
        seen += [c["id"] for c in body["results"]]
        url, pages = body["next"], pages + 1
    assert seen == list(Claim.objects.order_by("-created_at", "-id").values_list("pk", flat=True))
    assert len(seen) == 120 and pages == 3
