"""A merchant never sees another merchant's claim, evidence, notification or loss assessment,
not even by guessing ids in page or API URLs."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims import services
from claims.models import Claim, ClaimDocument, ClaimNotification
from claims.recompute import sync_incident_claims
from merchants.models import Merchant
from tests.factories import PNG, IncidentFactory, hit_session

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def theirs(merchant, merchant_user):
    """A claim of ``merchant`` (not the intruder's) with an assessment, evidence and notifications."""
    incident = IncidentFactory(external_id="SCOPE-1")
    hit_session(incident, merchant, sid="LS-SECRET")
    sync_incident_claims(incident)
    claim = Claim.objects.get(incident=incident, merchant=merchant)
    doc = services.add_evidence(claim=claim, by=merchant_user, upload=SimpleUploadedFile("secret.png", PNG))
    return claim, doc


@pytest.fixture
def mine(other_merchant, other_merchant_user):
    """The intruder's own claim, to combine its id with the other claim's document id."""
    claim = services.propose(
        incident=IncidentFactory(external_id="SCOPE-2"), merchant=other_merchant, amount="5", currency="CNY"
    )
    return claim


def test_portal_pages_hide_other_merchants_data(client, theirs, mine, other_merchant_user):
    claim, doc = theirs
    client.force_login(other_merchant_user)
    assert client.get(f"/portal/claims/{claim.pk}/").status_code == 404
    assert client.get(f"/portal/claims/{claim.pk}/documents/{doc.pk}/").status_code == 404
    assert client.get(f"/portal/claims/{mine.pk}/documents/{doc.pk}/").status_code == 404  # own claim, their file
    upload = client.post(f"/portal/claims/{claim.pk}/documents/", {"file": SimpleUploadedFile("x.png", PNG)})
    assert upload.status_code == 404
    for action in ("submit", "withdraw", "accept", "dispute", "answer"):
        assert client.post(f"/portal/claims/{claim.pk}/{action}/").status_code == 404
    assert Claim.objects.get(pk=claim.pk).state == "proposed" and ClaimDocument.objects.count() == 1
    home = client.get("/portal/").content.decode()
    listing = client.get("/portal/claims/").content.decode()
    notes = client.get("/portal/notifications/").content.decode()
    for html in (home, listing, notes):
        assert claim.incident.title not in html and f"#{claim.pk}<" not in html
    assert str(claim.computed_amount) not in home  # their loss assessment
    # Filing in another merchant's name is refused, and nothing is stored.
    other_incident = IncidentFactory(external_id="SCOPE-4")
    form = {"merchant": claim.merchant_id, "claimed_amount": "10", "session_reference": "x", "statement": "not mine"}
    filed = client.post(
        f"/portal/incidents/{other_incident.pk}/file/", {**form, "documents": [SimpleUploadedFile("s.png", PNG)]}
    )
    assert filed.status_code == 400 and not Claim.objects.filter(incident=other_incident).exists()


def test_api_hides_other_merchants_data(api_client, theirs, mine, merchant_user, other_merchant_user):
    claim, doc = theirs
    note = ClaimNotification.objects.filter(recipient=merchant_user).first()
    base = "/api/claims/claims/"
    api_client.force_authenticate(other_merchant_user)
    assert api_client.get(f"{base}{claim.pk}/").status_code == 404
    assert api_client.get(f"{base}{claim.pk}/documents/").status_code == 404
    assert api_client.get(f"{base}{claim.pk}/documents/{doc.pk}/download/").status_code == 404
    assert api_client.get(f"{base}{mine.pk}/documents/{doc.pk}/download/").status_code == 404
    upload = api_client.post(
        f"{base}{claim.pk}/documents/", {"file": SimpleUploadedFile("x.png", PNG)}, format="multipart"
    )
    assert upload.status_code == 404
    assert [c["id"] for c in api_client.get(base).json()["results"]] == [mine.pk]
    assert api_client.get(f"{base}?merchant={claim.merchant_id}").json()["results"] == []
    assert api_client.post(f"/api/claims/notifications/{note.pk}/read/").status_code == 404
    assert all(n["claim"] == mine.pk for n in api_client.get("/api/claims/notifications/").json()["results"])
    assert ClaimNotification.objects.get(pk=note.pk).read_at is None
    # Filing in another merchant's name is refused like for an unknown merchant id (404: the
    # answer does not tell that the merchant exists), and nothing is stored.
    incident = IncidentFactory(external_id="SCOPE-3")
    unknown_id = Merchant.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
    for merchant_id in (claim.merchant_id, unknown_id):
        filed = api_client.post(
            base,
            {
                "merchant": merchant_id,
                "incident": incident.pk,
                "claimed_amount": "10",
                "statement": "not mine",
                "documents": [SimpleUploadedFile("s.png", PNG)],
            },
            format="multipart",
        )
        assert filed.status_code == 404, merchant_id
        assert filed.json() == {"detail": "No Merchant matches the given query."}
    assert not Claim.objects.filter(incident=incident).exists()
