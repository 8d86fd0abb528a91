"""A real Celery worker round trip through Redis, not eager mode."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from incidents.demo import seed_catalogue
from incidents.models import Incident
from incidents.records import INCIDENT_CSV_COLUMNS
from incidents.tasks import import_incidents_file

pytestmark = pytest.mark.celery_worker


def test_task_runs_in_a_real_worker_through_redis(celery_worker_thread, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    seed_catalogue()
    csv_text = (
        ",".join(INCIDENT_CSV_COLUMNS)
        + "\n"
        + (
            "statuswatch,SW-77,Acme RTC,rtc-video,cn-east,major_outage,provider,Video down,"
            "2026-10-05T20:00:00+08:00,,,2026-10-05T21:00:00+08:00\n"
        )
    )
    name = default_storage.save("imports/incidents.csv", ContentFile(csv_text.encode()))
    result = import_incidents_file.delay(name)
    assert result.get(timeout=30) == {"ok": True, "rows": 1, "outcomes": {"created": 1}}
    assert Incident.objects.get(external_id="SW-77").state == "resolved"


def test_worker_reports_row_errors(celery_worker_thread, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    seed_catalogue()
    csv_text = (
        ",".join(INCIDENT_CSV_COLUMNS) + "\nstatuswatch,SW-78,Acme RTC,rtc-video,cn-east,oops,provider,X,bad,,,\n"
    )
    name = default_storage.save("imports/bad.csv", ContentFile(csv_text.encode()))
    outcome = import_incidents_file.delay(name).get(timeout=30)
    assert outcome["ok"] is False
    assert "line 2, column impact" in " ".join(outcome["errors"])
    assert not Incident.objects.exists()
