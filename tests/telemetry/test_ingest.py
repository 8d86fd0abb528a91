"""Ingest: all or nothing, line/column errors, idempotent upsert (PostgreSQL COPY and the portable path)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from telemetry import services
from telemetry.models import TelemetryWindow
from telemetry.services import TelemetryInputError, import_csv, ingest_windows

from .conftest import csv_bytes, row, sh

START = sh(2026, 11, 1)


def _texts(rows):
    return [tuple(services._as_text(r.get(c), i, c) for c in services.COLUMNS) for i, r in enumerate(rows, 1)]


@pytest.fixture(params=["postgresql", "portable"])
def ingest(request, catalogue):
    """Both write paths must agree on every rule."""

    def _ingest(rows):
        if request.param == "postgresql":
            return ingest_windows(rows=rows, source="test")
        return services._ingest_portable(_texts(rows), source="test", line_offset=0)

    return _ingest


def test_ingest_creates_then_changes_nothing_then_updates(ingest):
    rows = [
        row(START, stall_rate_percent="0.5", join_p95_ms="512.25", hd_share_percent="91", peak_concurrent=1200),
        row(START, region="cn-south", failed=3),
        row(START + timedelta(minutes=5), stall_rate_percent=None),
    ]
    first = ingest(rows)
    assert (first.rows, first.created, first.updated, first.unchanged) == (3, 3, 0, 0)
    again = ingest(rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    rows[1]["failed_requests"] = 7
    third = ingest(rows)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 2)
    stored = TelemetryWindow.objects.get(region__code="cn-east", window_start=START)
    assert stored.join_p95_ms == Decimal("512.250") and stored.peak_concurrent == 1200
    assert stored.stall_rate_percent == Decimal("0.5") and stored.source == "test"
    assert TelemetryWindow.objects.get(region__code="cn-south").failed_requests == 7
    assert TelemetryWindow.objects.count() == 3


@pytest.mark.parametrize(
    "bad, column",
    [
        ({"service": "nope"}, "service"),
        ({"region": ""}, "region"),
        ({"window_start": "2026-11-01T00:05:00"}, "window_start"),  # no offset
        ({"window_start": "2026-02-30T00:05:00+08:00"}, "window_start"),
        ({"window_start": "2026-11-01T00:05:30+08:00"}, "window_start"),  # not a whole minute
        ({"window_minutes": 0}, "window_minutes"),
        ({"window_minutes": 1441}, "window_minutes"),
        ({"requests": "-1"}, "requests"),
        ({"requests": 10, "failed_requests": 11}, "failed_requests"),
        ({"stall_rate_percent": "100.0001"}, "stall_rate_percent"),
        ({"hd_share_percent": "50.12345"}, "hd_share_percent"),
        ({"join_p95_ms": "abc"}, "join_p95_ms"),
        ({"peak_concurrent": "1.5"}, "peak_concurrent"),
    ],
)
def test_a_bad_row_names_line_and_column_and_nothing_is_stored(ingest, bad, column):
    rows = [row(START), row(START + timedelta(minutes=5)), row(START + timedelta(minutes=10))]
    rows[1].update(bad)
    with pytest.raises(TelemetryInputError) as err:
        ingest(rows)
    assert (err.value.line, err.value.column) == (2, column)
    assert TelemetryWindow.objects.count() == 0


def test_boundaries_are_accepted(ingest):
    """Exactly 100 %, exactly failed = requests, 1 and 1440 minutes, a Z offset."""
    rows = [
        row("2026-11-01T00:00:00Z", minutes=1, requests=5, failed=5, stall_rate_percent="100", hd_share_percent="0"),
        row("2026-11-02T00:00+08:00", minutes=1440, requests=0, failed=0, join_p95_ms="0.001"),
    ]
    assert ingest(rows).created == 2


def test_the_first_bad_row_is_reported(ingest):
    rows = [row(START + timedelta(minutes=5 * i)) for i in range(5)]
    rows[3]["requests"] = "-5"
    rows[1]["failed_requests"] = 2000
    with pytest.raises(TelemetryInputError) as err:
        ingest(rows)
    assert (err.value.line, err.value.column) == (2, "failed_requests")


def test_duplicate_key_in_one_batch(ingest):
    rows = [row(START), row(START + timedelta(minutes=5)), row(START.isoformat())]
    with pytest.raises(TelemetryInputError) as err:
        ingest(rows)
    assert (err.value.line, err.value.column) == (3, "window_start")
    assert TelemetryWindow.objects.count() == 0


def test_floats_and_naive_times_are_refused(catalogue):
    with pytest.raises(TelemetryInputError) as err:
        ingest_windows(rows=[row(START, stall_rate_percent=0.5)], source="test")
    assert err.value.column == "stall_rate_percent"
    with pytest.raises(TelemetryInputError) as err:
        ingest_windows(rows=[row(START.replace(tzinfo=None))], source="test")
    assert err.value.column == "window_start"
    with pytest.raises(TelemetryInputError) as err:
        ingest_windows(rows=[{**row(START), "extra": 1}], source="test")
    assert err.value.column == "extra"


def test_csv_import_lines_count_the_header(catalogue):
    rows = [row(START.isoformat()), row((START + timedelta(minutes=5)).isoformat(), requests=1, failed=2)]
    with pytest.raises(TelemetryInputError) as err:
        import_csv(path_or_file=csv_bytes(rows))
    assert (err.value.line, err.value.column) == (3, "failed_requests")
    assert TelemetryWindow.objects.count() == 0
    rows[1]["failed_requests"] = 1
    assert import_csv(path_or_file=csv_bytes(rows)).created == 2
    assert import_csv(path_or_file=csv_bytes(rows)).unchanged == 2


def test_csv_wrong_header_field_count_and_encoding(catalogue):
    with pytest.raises(TelemetryInputError) as err:
        import_csv(path_or_file=csv_bytes([], header=["service", "region"]))
    assert (err.value.line, err.value.column) == (1, "header")
    data = csv_bytes([row(START.isoformat())]).getvalue() + b"rtc-video,cn-east,2026-11-01T00:05:00+08:00,5,1\n"
    with pytest.raises(TelemetryInputError) as err:
        import_csv(path_or_file=__import__("io").BytesIO(data))
    assert err.value.line == 3
    data = csv_bytes([row(START.isoformat())]).getvalue() + b"rtc-video,cn-\xff,2026-11-01T00:05:00+08:00,5,1,0,,,,\n"
    with pytest.raises(TelemetryInputError) as err:
        import_csv(path_or_file=__import__("io").BytesIO(data))
    assert err.value.line == 3
    assert TelemetryWindow.objects.count() == 0


def test_import_command(catalogue, tmp_path, capsys):
    path = tmp_path / "t.csv"
    path.write_bytes(csv_bytes([row(START.isoformat(), join_p95_ms="480")]).getvalue())
    call_command("import_telemetry", str(path))
    assert "1 created" in capsys.readouterr().out
    path.write_bytes(csv_bytes([row(START.isoformat(), region="mars")]).getvalue())
    with pytest.raises(CommandError, match="line 2, column region"):
        call_command("import_telemetry", str(path))
