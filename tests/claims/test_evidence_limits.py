"""Evidence caps per claim and no markup disguised as CSV."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims import evidence, services
from core.errors import InvalidInput

from .conftest import PNG, png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">,x\n<rect/>,y\n</svg>,z\n',
        b"<html>,a\n<script>alert(1)</script>,b\n</html>,c\n",
        b"<!DOCTYPE html>,a\n<body>,b\n",
        b'<?xml version="1.0"?>,a\n<svg/>,b\n',
    ],
)
def test_markup_shaped_like_csv_is_refused(data):
    with pytest.raises(InvalidInput) as exc:
        evidence.inspect(SimpleUploadedFile("orders.csv", data, content_type="text/csv"))
    assert exc.value.code == "markup"


def test_a_csv_with_a_less_than_sign_is_still_a_csv():
    info = evidence.inspect(SimpleUploadedFile("o.csv", b"minute,gmv\n20:01,<5\n20:02,1 < 2\n"))
    assert info["kind"] == "csv"


def test_documents_per_claim_are_capped(proposed, merchant_user, settings, api_client):
    settings.CLAIMS_MAX_DOCUMENTS_PER_CLAIM = 3
    for n in range(3):
        services.add_evidence(claim=proposed, by=merchant_user, upload=png_upload(f"s{n}.png"))
    with pytest.raises(InvalidInput) as exc:
        services.add_evidence(claim=proposed, by=merchant_user, upload=png_upload("s4.png"))
    assert exc.value.code == "too_many_documents"
    api_client.force_authenticate(merchant_user)
    response = api_client.post(
        f"/api/claims/claims/{proposed.pk}/documents/", {"file": png_upload("s5.png")}, format="multipart"
    )
    assert response.status_code == 400
    assert proposed.documents.count() == 3


def test_total_evidence_size_per_claim_is_capped(proposed, merchant_user, settings):
    settings.CLAIMS_MAX_EVIDENCE_MB_PER_CLAIM = 1
    big = PNG + b"\x00" * (600 * 1024)
    services.add_evidence(
        claim=proposed, by=merchant_user, upload=SimpleUploadedFile("a.png", big, content_type="image/png")
    )
    with pytest.raises(InvalidInput) as exc:
        services.add_evidence(
            claim=proposed, by=merchant_user, upload=SimpleUploadedFile("b.png", big, content_type="image/png")
        )
    assert exc.value.code == "too_much_evidence"
    assert proposed.documents.count() == 1
