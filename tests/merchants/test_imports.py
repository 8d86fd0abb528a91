"""CSV ingestion of merchants, sessions and metrics: validation, idempotency, all-or-nothing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from core.csv import CsvRejected
from merchants.models import LiveSession, Merchant, SessionMinute
from merchants.services import MERCHANT_COLUMNS, import_csv

MERCHANTS = "code,name,timezone,margin_rate,currency\ntea,Tea House,Asia/Shanghai,0.35,CNY\nsilk,Silk Road,,,\n"
SESSIONS = (
    "merchant_code,merchant_name,session_id,service,region,started_at,ended_at\n"
    "tea,Tea House,T-1,rtc-video,cn-east,2026-11-02T12:00:00Z,2026-11-02T14:00:00Z\n"
    "new,New Shop,N-1,cdn-live,cn-north,2026-11-02T12:00:00+08:00,\n"
)
METRICS = (
    "session_id,minute,viewers,orders,gmv,ad_spend\n"
    "T-1,2026-11-02T12:00:00Z,100,2,199.90,5.00\n"
    "T-1,2026-11-02T12:01:00Z,120,3,299.85,5\n"
    "N-1,2026-11-02T04:00:00+00:00,10,0,0,0\n"
)


@pytest.fixture
def loaded(db):
    import_csv(kind="merchants", source=MERCHANTS.encode())
    import_csv(kind="sessions", source=SESSIONS.encode())
    return import_csv(kind="metrics", source=METRICS.encode())


def test_merchants_import_with_defaults_and_idempotency(db):
    result = import_csv(kind="merchants", source=MERCHANTS.encode())
    assert (result.rows, result.created, result.updated, result.unchanged) == (2, 2, 0, 0)
    tea, silk = Merchant.objects.get(code="tea"), Merchant.objects.get(code="silk")
    assert tea.margin_rate == Decimal("0.35") and silk.margin_rate is None  # empty = policy default
    assert (silk.timezone, silk.currency) == ("Asia/Shanghai", "CNY")
    again = import_csv(kind="merchants", source=MERCHANTS.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = import_csv(kind="merchants", source=MERCHANTS.replace("0.35", "0.4").encode())
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)


def test_sessions_create_unknown_merchants_and_store_utc(loaded):
    new = LiveSession.objects.get(external_id="N-1")
    assert new.merchant.code == "new" and new.merchant.name == "New Shop"
    assert new.started_at.isoformat() == "2026-11-02T04:00:00+00:00" and new.ended_at is None
    assert (new.service_code, new.region_code) == ("cdn-live", "cn-north")
    again = import_csv(kind="sessions", source=SESSIONS.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    stamp = LiveSession.objects.get(external_id="T-1").updated_at
    ended = import_csv(
        kind="sessions", source=SESSIONS.replace("2026-11-02T14:00:00Z", "2026-11-02T15:00:00Z").encode()
    )
    assert (ended.created, ended.updated, ended.unchanged) == (0, 1, 1)
    session = LiveSession.objects.get(external_id="T-1")
    assert session.ended_at.isoformat() == "2026-11-02T15:00:00+00:00" and session.updated_at > stamp


def test_metrics_upsert_is_idempotent(loaded):
    assert (loaded.rows, loaded.created, loaded.updated, loaded.unchanged) == (3, 3, 0, 0)
    snapshot = list(SessionMinute.objects.order_by("session_id", "minute").values())
    again = import_csv(kind="metrics", source=METRICS.encode())
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert list(SessionMinute.objects.order_by("session_id", "minute").values()) == snapshot
    changed = import_csv(kind="metrics", source=METRICS.replace("299.85", "300.00").encode())
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    assert SessionMinute.objects.get(session__external_id="T-1", minute__minute=1).gmv == Decimal("300.00")


@pytest.mark.parametrize(
    ("kind", "text", "line", "column"),
    [
        ("metrics", METRICS + "T-1,2026-11-02T12:02:00Z,1,1,abc,0\n", 5, "gmv"),
        ("metrics", METRICS + "T-1,2026-11-02T12:02:00Z,1,1,1.234,0\n", 5, "gmv"),
        ("metrics", METRICS + "T-1,2026-11-02T12:02:00Z,1,1,-1,0\n", 5, "gmv"),
        ("metrics", METRICS + "T-1,2026-11-02T12:02:00Z,-1,1,1,0\n", 5, "viewers"),
        ("metrics", METRICS + "T-1,2026-11-02T12:02:00Z,1,x,1,0\n", 5, "orders"),
        ("metrics", METRICS + "T-1,2026-11-02T12:02:00Z,1,1,1,NaN\n", 5, "ad_spend"),
        ("metrics", METRICS + "T-1,2026-11-02T12:02:30Z,1,1,1,0\n", 5, "minute"),
        ("metrics", METRICS + "T-1,yesterday,1,1,1,0\n", 5, "minute"),
        ("metrics", METRICS + "T-1,2026-11-02T12:02:00Z,1,1\n", 5, "gmv"),
        ("metrics", METRICS + "NOPE,2026-11-02T12:02:00Z,1,1,1,0\n", 5, "session_id"),
        ("metrics", METRICS + "T-1,2026-11-02T12:01:00Z,1,1,1,0\n", 5, "minute"),  # duplicate minute
        ("metrics", "session_id,minute,viewers,orders,gmv\n", 1, "ad_spend"),
        ("merchants", MERCHANTS + "bad code,X,,,\n", 4, "code"),
        ("merchants", MERCHANTS + "ok,X,Mars/Olympus,,\n", 4, "timezone"),
        ("merchants", MERCHANTS + "ok,X,,1.5,\n", 4, "margin_rate"),
        ("merchants", MERCHANTS + "ok,X,,,YUAN\n", 4, "currency"),
        ("merchants", MERCHANTS + "tea,Again,,,\n", 4, "code"),
        ("sessions", SESSIONS + "tea,,T-2,rtc-video,cn-east,2026-11-02T12:00Z,2026-11-02T11:00Z\n", 4, "ended_at"),
        ("sessions", SESSIONS + "tea,,T-3,rtc-video,cn-east,noon,\n", 4, "started_at"),
        ("sessions", SESSIONS + "ghost,,G-1,rtc-video,cn-east,2026-11-02T12:00:00Z,\n", 4, "merchant_name"),
    ],
)
def test_bad_row_names_line_and_column_and_imports_nothing(loaded, kind, text, line, column):
    before = (Merchant.objects.count(), LiveSession.objects.count(), list(SessionMinute.objects.values()))
    text = text.replace("T-1,2026-11-02T12:00:00Z,100,2,199.90", "T-1,2026-11-02T12:00:00Z,100,2,1.00")
    with pytest.raises(CsvRejected) as exc:
        import_csv(kind=kind, source=text.encode())
    assert (exc.value.line, exc.value.column) == (line, column), str(exc.value)
    assert str(exc.value).startswith(f"line {line}, column {column}:")
    after = (Merchant.objects.count(), LiveSession.objects.count(), list(SessionMinute.objects.values()))
    assert after == before  # the good rows of the bad file were not imported either


def test_commands(db, tmp_path, capsys):
    for kind, text in (("merchants", MERCHANTS), ("sessions", SESSIONS), ("metrics", METRICS)):
        path = tmp_path / f"{kind}.csv"
        path.write_text(text)
        call_command(f"import_{kind}", str(path))
    out = capsys.readouterr().out
    assert "metrics: 3 rows, 3 created, 0 updated, 0 unchanged" in out
    bad = tmp_path / "bad.csv"
    bad.write_text(METRICS + "T-1,2026-11-02T12:09:00Z,1,1,1,oops\n")
    with pytest.raises(CommandError, match="line 5, column ad_spend"):
        call_command("import_metrics", str(bad))


def test_bulk_api_is_staff_only(db, api_client, make_user, support_user):
    url = "/api/merchants/import/merchants/"
    merchant_user = make_user("mo", "merchant")
    api_client.force_authenticate(merchant_user)
    assert api_client.post(url, MERCHANTS, content_type="text/csv").status_code == 403
    api_client.force_authenticate(support_user)
    response = api_client.post(url, MERCHANTS, content_type="text/csv")
    assert response.status_code == 200 and response.json()["created"] == 2
    bad = api_client.post(url, MERCHANTS + "x y,X,,,\n", content_type="text/csv")
    assert (
        bad.status_code == 400
        and bad.json().items()
        >= {
            "line": 4,
            "column": "code",
            "error": "expected a code of letters, digits, - or _, got 'x y'",
        }.items()
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("s.csv", SESSIONS.encode(), content_type="text/csv")
    response = api_client.post("/api/merchants/import/sessions/", {"file": upload}, format="multipart")
    assert response.status_code == 200 and response.json()["rows"] == 2
    assert api_client.post("/api/merchants/import/nothing/", MERCHANTS, content_type="text/csv").status_code == 404


def test_file_not_in_utf8_names_line_and_column_and_imports_nothing(db, tmp_path):
    gbk = "code,name,timezone,margin_rate,currency\ntea,Tea House,,,\nsilk,茶馆,,,\n".encode("gbk")
    with pytest.raises(CsvRejected) as exc:
        import_csv(kind="merchants", source=gbk)
    assert (exc.value.line, exc.value.column) == (3, "name")
    assert "not UTF-8" in exc.value.message
    path = tmp_path / "gbk.csv"
    path.write_bytes(gbk)
    with pytest.raises(CommandError, match="line 3, column name: the file is not UTF-8"):
        call_command("import_merchants", str(path))
    assert not Merchant.objects.exists()


def test_bytes_not_in_utf8_deep_in_a_metrics_file_are_located(loaded):
    start = datetime(2026, 11, 2, 12, 2, tzinfo=UTC)
    rows = [f"T-1,{(start + timedelta(minutes=i)).isoformat()},1,1,1.00,0" for i in range(5000)]
    text = "session_id,minute,viewers,orders,gmv,ad_spend\n" + "\n".join(rows) + "\n"
    data = text.encode() + "T-1,2026-11-05T00:00:00Z,1,1,£5,0\n".encode("latin-1")
    before = list(SessionMinute.objects.order_by("session_id", "minute").values())
    with pytest.raises(CsvRejected) as exc:
        import_csv(kind="metrics", source=data)
    assert (exc.value.line, exc.value.column) == (5002, "gmv")
    assert list(SessionMinute.objects.order_by("session_id", "minute").values()) == before


def test_utf8_bom_and_any_line_ending(db):
    text = "\ufeff" + MERCHANTS.replace("silk,Silk Road", "silk,丝路")
    for newline in ("\n", "\r\n", "\r"):
        result = import_csv(kind="merchants", source=text.replace("\n", newline).encode("utf-8"))
        assert result.rows == 2, newline
    assert Merchant.objects.get(code="silk").name == "丝路"


def test_bulk_api_refuses_anonymous_users(db, api_client):
    response = api_client.post("/api/merchants/import/merchants/", MERCHANTS, content_type="text/csv")
    assert response.status_code in (401, 403) and not Merchant.objects.exists()


def test_bulk_api_checks_upload_type_and_size(db, api_client, support_user, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from merchants import api, services

    api_client.force_authenticate(support_user)
    url = "/api/merchants/import/merchants/"
    workbook = SimpleUploadedFile("m.csv", b"PK\x03\x04" + b"\x00" * 200, content_type="text/csv")
    response = api_client.post(url, {"file": workbook}, format="multipart")
    assert response.status_code == 415
    assert (
        response.json().items()
        >= {
            "line": 0,
            "column": "file",
            "error": "expected a CSV file (UTF-8 text), got a zip file (application/zip)",
        }.items()
    )
    gbk = SimpleUploadedFile("m.csv", "code,name,timezone,margin_rate,currency\nx,茶,,,\n".encode("gbk"))
    response = api_client.post(url, {"file": gbk}, format="multipart")
    assert response.status_code == 400 and (response.json()["line"], response.json()["column"]) == (2, "name")
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", len(MERCHANTS) - 1)
    monkeypatch.setattr(api, "MAX_UPLOAD_BYTES", len(MERCHANTS) - 1)
    monkeypatch.setattr(api, "MULTIPART_OVERHEAD", 0)
    response = api_client.post(url, MERCHANTS, content_type="text/csv")
    assert response.status_code == 413 and response.json()["column"] == "file"
    upload = SimpleUploadedFile("m.csv", MERCHANTS.encode(), content_type="text/csv")
    monkeypatch.setattr(api, "MULTIPART_OVERHEAD", 10_000)  # only the file's own size counts
    response = api_client.post(url, {"file": upload}, format="multipart")
    assert response.status_code == 413
    assert not Merchant.objects.exists()
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", len(MERCHANTS))
    monkeypatch.setattr(api, "MAX_UPLOAD_BYTES", len(MERCHANTS))
    upload = SimpleUploadedFile("m.csv", MERCHANTS.encode(), content_type="text/csv")
    assert api_client.post(url, {"file": upload}, format="multipart").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_bulk_import_leaves_fresh_planner_statistics():
    """Right after an import the planner knows the table's size, without waiting for autovacuum."""
    from django.db import connection

    rows = [",".join(MERCHANT_COLUMNS)] + [f"shop{i:04d},Shop {i},,,CNY" for i in range(1500)]
    import_csv(kind="merchants", source=("\n".join(rows) + "\n").encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'merchants_merchant'")
        assert cursor.fetchone()[0] == 1500
