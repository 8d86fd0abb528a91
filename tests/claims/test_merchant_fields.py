"""Merchants see merchant-facing fields only: exact field sets per role for claims and incidents."""

from decimal import Decimal

import pytest

from claims import services
from claims.models import Claim
from incidents import services as incident_services
from incidents.models import Incident, IncidentState

pytestmark = pytest.mark.django_db

INTERNAL = "Internal: ops says the baseline is inflated"

CLAIM_FIELDS_MERCHANT = {
    "id",
    "incident",
    "merchant",
    "state",
    "origin",
    "currency",
    "computed_amount",
    "claimed_amount",
    "approved_amount",
    "session_reference",
    "submitted_at",
    "due_at",
    "overdue",
    "expires_at",
    "decided_at",
    "decision_reason",
    "decision_message",
    "dispute_count",
    "created_at",
    "updated_at",
    "allowed_actions",
}
CLAIM_FIELDS_STAFF = CLAIM_FIELDS_MERCHANT | {"pending_amount", "recomputed_amount", "assignee"}
DETAIL_EXTRA = {"statement", "dispute_reason", "dispute_statement", "payment_reference", "events", "documents", "loss"}
EVENT_FIELDS_MERCHANT = {
    "id",
    "kind",
    "action",
    "actor_role",
    "from_state",
    "to_state",
    "reason_code",
    "message",
    "amount",
    "computed_amount",
    "currency",
    "created_at",
}


@pytest.fixture
def pending_claim(proposed, flow, support_user):
    """Above the computed maximum: waits for a second approver, with the staff's internal message."""
    claim = services.partially_approve(
        claim=flow.under_review(proposed), by=support_user, amount="1500.00", reason="other", message=INTERNAL
    )
    Claim.objects.filter(pk=claim.pk).update(recomputed_amount=Decimal("1111.11"))
    return claim


def test_merchant_claim_api_has_only_merchant_fields(api_client, pending_claim, merchant_user, support_user):
    api_client.force_authenticate(merchant_user)
    detail = api_client.get(f"/api/claims/claims/{pending_claim.pk}/")
    assert detail.status_code == 200
    body = detail.json()
    assert set(body) == CLAIM_FIELDS_MERCHANT | DETAIL_EXTRA
    assert {k for e in body["events"] for k in e} == EVENT_FIELDS_MERCHANT
    assert "approval_requested" not in {e["kind"] for e in body["events"]}
    assert INTERNAL not in detail.content.decode() and "1,500.00" not in detail.content.decode()
    assert support_user.username not in detail.content.decode()
    listing = api_client.get("/api/claims/claims/").json()["results"]
    assert [set(row) for row in listing] == [CLAIM_FIELDS_MERCHANT]


def test_staff_claim_api_has_every_field(api_client, pending_claim, support_user_2):
    api_client.force_authenticate(support_user_2)
    body = api_client.get(f"/api/claims/claims/{pending_claim.pk}/").json()
    assert set(body) == CLAIM_FIELDS_STAFF | DETAIL_EXTRA
    assert body["pending_amount"] == "1500.00" and body["recomputed_amount"] == "1111.11"
    assert {k for e in body["events"] for k in e} == EVENT_FIELDS_MERCHANT | {"actor"}
    assert INTERNAL in {e["message"] for e in body["events"]}
    listing = api_client.get("/api/claims/claims/").json()["results"]
    assert [set(row) for row in listing] == [CLAIM_FIELDS_STAFF]


def test_merchant_action_answer_has_only_merchant_fields(api_client, proposed, merchant_user):
    api_client.force_authenticate(merchant_user)
    response = api_client.post(f"/api/claims/claims/{proposed.pk}/submit/", {}, format="json")
    assert response.status_code == 200
    assert set(response.json()) == CLAIM_FIELDS_MERCHANT | DETAIL_EXTRA


def test_portal_page_hides_the_pending_approval_and_staff_names(client, pending_claim, merchant_user, support_user):
    client.force_login(merchant_user)
    page = client.get(f"/portal/claims/{pending_claim.pk}/").content.decode()
    assert pending_claim.merchant.name in page
    assert INTERNAL not in page and "1,500.00" not in page and "1,111.11" not in page
    assert support_user.username not in page


def test_merchant_incident_api_has_no_internal_timeline(api_client, incident, merchant_user, support_user):
    Incident.objects.filter(pk=incident.pk).update(state=IncidentState.DETECTED, resolved_at=None)
    incident_services.add_note(incident=incident, actor=support_user, message=INTERNAL)
    incident_services.transition_incident(
        incident=incident, action="acknowledge", actor=support_user, message="Duplicate of INC-0"
    )
    api_client.force_authenticate(merchant_user)
    response = api_client.get(f"/api/incidents/{incident.pk}/")
    body = response.json()
    assert set(body) == {
        "id",
        "title",
        "provider",
        "service",
        "regions",
        "impact",
        "cause",
        "state",
        "started_at",
        "detected_at",
        "acknowledged_at",
        "mitigated_at",
        "resolved_at",
        "updated_at",
        "timeline",
    }
    assert body["timeline"] and all(
        set(u) == {"kind", "from_state", "to_state", "created_at"} for u in body["timeline"]
    )
    assert {u["kind"] for u in body["timeline"]} <= {"created", "transition"}
    text = response.content.decode()
    assert INTERNAL not in text and support_user.username not in text and "Duplicate" not in text


def test_staff_incident_api_keeps_the_whole_timeline(api_client, incident, support_user, support_user_2):
    incident_services.add_note(incident=incident, actor=support_user, message=INTERNAL)
    api_client.force_authenticate(support_user_2)
    body = api_client.get(f"/api/incidents/{incident.pk}/").json()
    assert {"source", "external_id"} <= set(body)
    note = next(u for u in body["timeline"] if u["kind"] == "note")
    assert note["message"] == INTERNAL and note["actor"] == support_user.username
    assert set(note) == {"kind", "from_state", "to_state", "message", "changes", "origin", "actor", "created_at"}
