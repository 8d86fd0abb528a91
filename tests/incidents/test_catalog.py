"""manage.py import_catalog: providers, services and regions from CSV or JSON, all or nothing,
idempotent; an incidents file naming a region registered this way then imports."""

import json

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident, Provider, Region, Service

pytestmark = pytest.mark.django_db

CSV = """type,code,name,provider,kind
provider,,Acme RTC,,rtc
service,acme-video,Acme video ingest,Acme RTC,
region,sa-east,South America East,,
"""

INCIDENTS = (
    "source,external_id,provider,service,regions,impact,cause,title,"
    "started_at,detected_at,acknowledged_at,resolved_at\n"
    "csv,EXT-1,Acme RTC,acme-video,sa-east,major_outage,provider,Ingest down,"
    "2026-10-05T20:00:00+08:00,2026-10-05T20:02:00+08:00,,2026-10-05T20:40:00+08:00\n"
)


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_csv_catalog_then_incidents_naming_it(tmp_path):
    catalog = tmp_path / "catalog.csv"
    catalog.write_text(CSV, encoding="utf-8")
    incidents = tmp_path / "incidents.csv"
    incidents.write_text(INCIDENTS, encoding="utf-8")
    with pytest.raises(CommandError):
        run("import_incidents", str(incidents))  # the region is not registered yet
    out = run("import_catalog", str(catalog))
    assert "1 provider created" in out and "1 region created" in out and "1 service created" in out
    assert Service.objects.get(code="acme-video").provider == Provider.objects.get(name="Acme RTC", kind="rtc")
    assert "3 entries" in run("import_catalog", str(catalog)) and "created" not in run("import_catalog", str(catalog))
    run("import_incidents", str(incidents))
    assert list(Incident.objects.get(external_id="EXT-1").regions.values_list("code", flat=True)) == ["sa-east"]


def test_json_catalog_updates_names(tmp_path):
    Region.objects.create(code="cn-east", name="East")
    doc = {"providers": [{"name": "Edge CDN", "kind": "cdn"}], "regions": [{"code": "cn-east", "name": "East China"}]}
    doc["services"] = [{"code": "edge-live", "name": "Live CDN", "provider": "Edge CDN"}]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = run("import_catalog", str(path))
    assert "1 region updated" in out
    assert Region.objects.get(code="cn-east").name == "East China"


def test_a_bad_entry_imports_nothing(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(CSV + "service,bad code!,X,Nobody,\nplanet,,Mars,,\n", encoding="utf-8")
    from io import StringIO

    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_catalog", str(path), stdout=StringIO(), stderr=err)
    assert "line 5, column code" in err.getvalue() and "line 5, column provider" in err.getvalue()
    assert "line 6, column type" in err.getvalue()
    assert not Provider.objects.filter(name="Acme RTC").exists() and not Region.objects.filter(code="sa-east").exists()
