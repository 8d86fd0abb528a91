"""The finance API in the OpenAPI schema (no warnings, named enums, file endpoints) and the ledger API."""

from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_schema_validates_with_named_enums_and_file_endpoints():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    components = schema["components"]["schemas"]
    assert components["Batch"]["properties"]["state"]["allOf"][0]["$ref"].endswith("/SettlementBatchStateEnum")
    # A field with a verbose name wraps its enum in allOf (next to its title).
    assert components["Document"]["properties"]["kind"]["allOf"][0]["$ref"].endswith("/IssuedDocumentKindEnum")
    assert not [name for name in components if name.startswith(("Kind", "State"))]  # no hashed collision names
    paths = schema["paths"]
    assert paths["/api/finance/batches/"]["post"]["operationId"] == "finance_batches_create"
    assert paths["/api/finance/batches/{id}/{action}/"]["post"]["operationId"] == "finance_batches_action"
    download = paths["/api/finance/documents/{id}/download/"]["get"]["responses"]["200"]["content"]
    assert download["application/pdf"]["schema"] == {"type": "string", "format": "binary"}
    upload = paths["/api/finance/batches/{id}/payments/"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    ledger = paths["/api/finance/ledger/"]["get"]
    assert {p["name"] for p in ledger["parameters"]} >= {"start", "end", "format"}
    assert "rows" in components["Recovery"]["properties"]


def test_ledger_api_csv_and_xlsx(api_client, finance_user):
    api_client.force_authenticate(finance_user)
    today = timezone.localdate()
    query = f"start={today - timedelta(days=30)}&end={today}"
    r = api_client.get(f"/api/finance/ledger/?{query}")
    assert r.status_code == 200 and r["Content-Type"] == "text/csv"
    assert b"".join(r.streaming_content).startswith("\ufeffaccepted_on,".encode())
    r = api_client.get(f"/api/finance/ledger/?{query}&format=xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert r.streaming and b"".join(r.streaming_content)[:2] == b"PK"  # a file, not built in memory
    r = api_client.get("/api/finance/ledger/")
    assert r.status_code == 400 and "start" in r.json()["detail"]
    r = api_client.get(f"/api/finance/ledger/?start={today}&end={today - timedelta(days=1)}")
    assert r.status_code == 400 and "before" in r.json()["detail"]


def test_ledger_page_refuses_a_reversed_range(client, finance_user):
    client.force_login(finance_user)
    r = client.get("/finance/ledger/", {"start": "2026-11-30", "end": "2026-11-01", "format": "csv"})
    assert r.status_code == 400 and not r.get("Content-Disposition")
    assert "The range ends before it starts." in r.content.decode()
