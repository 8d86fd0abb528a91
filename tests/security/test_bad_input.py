"""Every bad request the audit reproduced gets a clear 4xx (or a command error), never a 500."""

import copy
import json
import time

import pytest
from django.core.management import CommandError, call_command

from core.csv import CsvRejected
from core.parsers import MAX_JSON_DEPTH
from incidents import services as incident_services
from incidents.models import Provider, Service, WebhookSource
from merchants.services import import_csv
from settlements.services import settlements as st
from tests.settlements.conftest import Claims
from tests.sla.test_commands import CONTRACT

pytestmark = pytest.mark.django_db


@pytest.fixture
def support(api_client, make_user):
    user = make_user("sam-support", "support")
    api_client.force_authenticate(user)
    return user


@pytest.mark.parametrize("query", ["since=notadate", "until=2026-99-99", "region=%00", "search=a%00b"])
def test_incident_api_filters(api_client, support, query):
    response = api_client.get(f"/api/incidents/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_non_numeric_ids_in_api_paths_are_404(api_client, support):
    assert api_client.post("/api/claims/notifications/abc/read/").status_code == 404
    assert api_client.post("/api/incidents/abc/transition/", {"action": "resolve"}).status_code == 404
    assert api_client.get("/api/claims/claims/1e3/").status_code == 404


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/console/claims/?merchant=%00", "merchant"),
        ("/console/claims/?incident=99999999999999999999999", "incident"),
        ("/console/incidents/?since=2026-99-99", "since"),
        ("/console/incidents/?region=%00", "region"),
    ],
)
def test_console_filters(client, support, url, field):
    client.force_login(support)
    response = client.get(url)
    assert response.status_code == 400
    assert field in response.content.decode().lower()  # the page names the filter that was wrong


def nested(depth):
    return ("[" * depth + "]" * depth).encode()


@pytest.mark.parametrize("depth", [100_000, MAX_JSON_DEPTH + 1])
def test_deeply_nested_json_is_400(api_client, support, depth):
    response = api_client.post("/api/incidents/", data=nested(depth), content_type="application/json")
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


@pytest.fixture
def webhook(api_client):
    source = WebhookSource.objects.create(name="statuswatch", secret="s3cret")

    def post(body: bytes, timestamp: str | None = None):
        timestamp = timestamp or str(int(time.time()))
        return api_client.post(
            "/api/incidents/webhook/",
            data=body,
            content_type="application/json",
            HTTP_X_INCIDENT_SOURCE=source.name,
            HTTP_X_INCIDENT_TIMESTAMP=timestamp,
            HTTP_X_INCIDENT_SIGNATURE=incident_services.webhook_signature(
                secret=source.secret, timestamp=timestamp, body=body
            ),
        )

    return post


def test_webhook_deeply_nested_body_is_400(webhook):
    assert webhook(nested(100_000)).status_code == 400
    assert webhook(b'{"title": ' + nested(MAX_JSON_DEPTH + 1) + b"}").status_code == 400


@pytest.mark.parametrize("timestamp", ["9" * 400, "１７００００００００", "+1700000000", "1_700_000_000"])
def test_webhook_odd_timestamps_are_401(webhook, timestamp):
    response = webhook(b"{}", timestamp=timestamp)
    assert response.status_code == 401
    assert response.json()["detail"] == "timestamp must be Unix seconds"


# --- Imports --------------------------------------------------------------------------------

MERCHANTS = "code,name,timezone,margin_rate,currency\ntea,Tea House,Asia/Shanghai,0.35,CNY\n"
SESSIONS = "merchant_code,merchant_name,session_id,service,region,started_at,ended_at\n"
METRICS = "session_id,minute,viewers,orders,gmv,ad_spend\n"


@pytest.mark.parametrize(
    ("kind", "row", "column"),
    [
        ("sessions", "tea,,T-9,rtc-video,cn-east,0001-01-01T00:00:00+08:00,", "started_at"),
        ("sessions", "tea,,T-9,rtc-video,cn-east,2026-11-02T12:00:00Z,9999-12-31T23:59:00-14:00", "ended_at"),
        ("metrics", "T-1,2026-11-02T12:02:00Z,１０,1,1,0", "viewers"),
        ("metrics", "T-1,2026-11-02T12:02:00Z,1,1,１０.５,0", "gmv"),
        ("merchants", "new,New,,０.５,", "margin_rate"),
    ],
)
def test_import_rows_that_used_to_crash(kind, row, column):
    import_csv(kind="merchants", source=MERCHANTS.encode())
    import_csv(kind="sessions", source=(SESSIONS + "tea,,T-1,rtc-video,cn-east,2026-11-02T12:00:00Z,\n").encode())
    header = {"merchants": MERCHANTS, "sessions": SESSIONS, "metrics": METRICS}[kind]
    with pytest.raises(CsvRejected) as exc:
        import_csv(kind=kind, source=(header + row + "\n").encode())
    assert exc.value.column == column


def test_payment_amount_1e309_is_a_row_error(make_user, api_client):
    claims = Claims(make_user)
    finance = make_user("fay-finance", "finance")
    claim = claims.accepted("10.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    st.lock(batch=batch, by=finance)
    st.mark_exported(batch=batch, by=finance, sha256="a" * 64)
    api_client.force_authenticate(finance)
    data = f"claim_id,amount,currency,status,payment_reference\n{claim.pk},1e309,CNY,paid,B-1\n".encode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api_client.post(
        f"/api/finance/batches/{batch.pk}/payments/",
        {"file": SimpleUploadedFile("pay.csv", data, content_type="text/csv")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"line": 2, "column": "amount", "message": "Not an amount."}]


@pytest.fixture
def contracts_file(tmp_path, db):
    provider = Provider.objects.create(name="Acme RTC", kind="rtc")
    for code in ("rtc-video", "rtc-audio"):
        Service.objects.create(provider=provider, code=code, name=code)

    def write(data: bytes):
        path = tmp_path / "contracts.json"
        path.write_bytes(data)
        return str(path)

    return write


def contract(**changes):
    item = copy.deepcopy(CONTRACT)
    item.update(changes)
    return json.dumps([item]).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (json.dumps([{**CONTRACT, "amendment_reason": "合同修订"}], ensure_ascii=False).encode("gbk"), "not UTF-8"),
        (b'[{"code": ' + nested(100_000) + b"}]", "not valid JSON"),
        (b'[{"code": ' + nested(MAX_JSON_DEPTH + 1) + b"}]", "not valid JSON"),
        (contract(monthly_fee="1e309"), "monthly_fee: is too large"),
        (contract(monthly_fee="12345678901234567890"), "monthly_fee: is too large"),
        (contract(version=2**31), "version: must be at most"),
        (contract(maintenance_notice_hours=2**31), "maintenance_notice_hours: must be at most"),
        (contract(claim_window_days=2**40), "claim_window_days: must be at most"),
    ],
)
def test_import_contracts_refuses_clearly(contracts_file, data, message):
    with pytest.raises(CommandError) as exc:
        call_command("import_contracts", contracts_file(data))
    assert message in str(exc.value)
