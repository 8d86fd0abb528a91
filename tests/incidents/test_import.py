import io

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident, IncidentState, IncidentUpdate, MaintenanceWindow
from incidents.records import INCIDENT_CSV_COLUMNS

HEADER = ",".join(INCIDENT_CSV_COLUMNS) + "\n"
GOOD = (
    HEADER + "statuswatch,SW-1,Acme RTC,rtc-video,cn-east;cn-north,major_outage,provider,Video down,"
    "2026-10-05T20:00:00+08:00,2026-10-05T20:02:00+08:00,2026-10-05T20:05:00+08:00,2026-10-05T21:00:00+08:00\n"
    + "statuswatch,SW-2,SwiftCDN,cdn-live,cn-south,partial_outage,third_party,CDN errors,"
    "2026-10-06T10:00:00+08:00,2026-10-06T10:01:00+08:00,,\n"
)


def write(tmp_path, text, name="incidents.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_import_creates_incidents_in_their_states(tmp_path, catalogue):
    out = io.StringIO()
    call_command("import_incidents", write(tmp_path, GOOD), stdout=out)
    assert "2 created" in out.getvalue()
    resolved = Incident.objects.get(external_id="SW-1")
    assert resolved.state == IncidentState.RESOLVED
    assert sorted(r.code for r in resolved.regions.all()) == ["cn-east", "cn-north"]
    ongoing = Incident.objects.get(external_id="SW-2")
    assert ongoing.state == IncidentState.DETECTED and ongoing.resolved_at is None


def test_reimporting_the_same_file_changes_nothing(tmp_path, catalogue):
    path = write(tmp_path, GOOD)
    call_command("import_incidents", path, stdout=io.StringIO())
    updates = IncidentUpdate.objects.count()
    out = io.StringIO()
    call_command("import_incidents", path, stdout=out)
    assert "2 unchanged" in out.getvalue()
    assert IncidentUpdate.objects.count() == updates


def test_bad_rows_name_line_and_column_and_nothing_is_imported(tmp_path, catalogue):
    bad = GOOD + (
        "statuswatch,SW-3,Acme RTC,rtc-video,cn-east,major_outage,provider,Bad time,"
        "2026-10-07 20:00,2026-10-07T20:02:00+08:00,,\n"
        "statuswatch,SW-4,Acme RTC,no-such-service,mars,sideways,provider,Bad refs,"
        "2026-10-07T20:00:00+08:00,,,\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_incidents", write(tmp_path, bad), stdout=io.StringIO(), stderr=err)
    messages = err.getvalue()
    assert "line 4, column started_at" in messages
    assert "line 5, column regions: unknown region(s): mars" in messages
    assert "line 5, column impact" in messages
    assert not Incident.objects.exists()


def test_time_order_is_checked(tmp_path, catalogue):
    bad = HEADER + (
        "statuswatch,SW-9,Acme RTC,rtc-video,cn-east,major_outage,provider,Backwards,"
        "2026-10-05T20:00:00+08:00,2026-10-05T20:02:00+08:00,,2026-10-05T19:00:00+08:00\n"
    )
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_incidents", write(tmp_path, bad), stderr=err)
    assert "line 2, column resolved_at: must not be before" in err.getvalue()


def test_missing_column_is_reported(tmp_path, catalogue):
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_incidents", write(tmp_path, "source,external_id\nx,y\n"), stderr=err)
    assert "line 1, column provider: missing column" in err.getvalue()


def test_provider_must_own_the_service(tmp_path, catalogue):
    bad = HEADER + "statuswatch,SW-1,SwiftCDN,rtc-video,cn-east,major_outage,provider,X,2026-10-05T20:00:00+08:00,,,\n"
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_incidents", write(tmp_path, bad), stderr=err)
    assert "line 2, column provider: service 'rtc-video' belongs to 'Acme RTC'" in err.getvalue()


MAINT = (
    "provider,service,regions,starts_at,ends_at,announced_at\n"
    "Acme RTC,rtc-video,cn-east;cn-south,2026-10-06T02:00:00+08:00,2026-10-06T04:00:00+08:00,"
    "2026-10-03T02:00:00+08:00\n"
)


def test_import_maintenance_is_idempotent(tmp_path, catalogue):
    path = write(tmp_path, MAINT, "m.csv")
    call_command("import_maintenance", path, stdout=io.StringIO())
    out = io.StringIO()
    call_command("import_maintenance", path, stdout=out)
    assert "1 unchanged" in out.getvalue()
    window = MaintenanceWindow.objects.get()
    assert sorted(r.code for r in window.regions.all()) == ["cn-east", "cn-south"]


def test_import_maintenance_rejects_inverted_window(tmp_path, catalogue):
    bad = MAINT.replace("2026-10-06T04:00:00+08:00", "2026-10-06T01:00:00+08:00")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_maintenance", write(tmp_path, bad, "m.csv"), stderr=err)
    assert "line 2, column ends_at: must be after starts_at" in err.getvalue()
    assert not MaintenanceWindow.objects.exists()
