"""Evidence: type from the content, 10 MB at most, stored through the storage API."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from claims import evidence, services
from core.errors import InvalidInput, NotPermitted
from tests.factories import PDF, PNG

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("a.pdf", PDF, "pdf"),
        ("a.png", PNG, "png"),
        ("a.jpg", JPEG, "jpeg"),
        ("orders.csv", b"minute,gmv\n20:01,100\n20:02,0\n", "csv"),
        ("semicolon.csv", "分钟;GMV\n20:01;100\n".encode(), "csv"),
        ("named-wrong.txt", PNG, "png"),  # the name does not matter, the content does
    ],
)
def test_accepted_types(name, data, kind):
    assert evidence.inspect(SimpleUploadedFile(name, data))["kind"] == kind


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("fake.pdf", b"MZ\x90\x00 this is an exe"),
        ("fake.png", b"PK\x03\x04zip archive"),
        ("latin1.csv", "a,b\ncaf\xe9,1\n".encode("latin-1")),
        ("ragged.csv", b"a,b,c\n1,2\n3\n"),
        ("prose.csv", b"just one line of text without delimiters"),
        ("empty.csv", b""),
    ],
)
def test_refused_types(name, data):
    with pytest.raises(InvalidInput):
        evidence.inspect(SimpleUploadedFile(name, data))


def test_size_limit():
    ok = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024 - len(PDF)))
    assert evidence.inspect(ok)["size"] == 10 * 1024 * 1024
    too_big = SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024))
    with pytest.raises(InvalidInput) as exc:
        evidence.inspect(too_big)
    assert exc.value.code == "too_large"


def test_stored_through_storage_api_and_audited(proposed, merchant_user, other_merchant_user):
    doc = services.add_evidence(claim=proposed, by=merchant_user, upload=SimpleUploadedFile("screen.png", PNG))
    assert default_storage.exists(doc.file.name)
    assert doc.file.name.startswith(f"claims/evidence/{proposed.pk}/") and doc.file.name.endswith(".png")
    assert doc.original_name == "screen.png" and doc.size == len(PNG) and len(doc.sha256) == 64
    assert proposed.events.filter(kind="evidence").count() == 1
    with pytest.raises(NotPermitted):
        services.add_evidence(claim=proposed, by=other_merchant_user, upload=SimpleUploadedFile("x.png", PNG))


def test_a_refused_upload_names_its_file_once(proposed, merchant_user):
    with pytest.raises(InvalidInput) as exc:
        services.add_evidence(
            claim=proposed, by=merchant_user, upload=SimpleUploadedFile("evil.exe", b"MZ\x90\x00" + b"\x00" * 60)
        )
    assert str(exc.value.message).count("evil.exe") == 1 and "PDF" in str(exc.value.message)
    assert not proposed.documents.exists()
