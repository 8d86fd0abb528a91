import pytest
from django.urls import reverse

from incidents.models import Incident

from .conftest import record_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def merchant_user(make_user):
    return make_user("mia-merchant", "merchant")


def test_anonymous_cannot_read(api_client, catalogue):
    assert api_client.get(reverse("incidents_api:incident-list")).status_code in (401, 403)


def test_merchant_can_read_but_not_write(api_client, catalogue, merchant_user):
    api_client.force_authenticate(merchant_user)
    assert api_client.get(reverse("incidents_api:incident-list")).status_code == 200
    response = api_client.post(reverse("incidents_api:incident-list"), record_data(), format="json")
    assert response.status_code == 403
    assert not Incident.objects.exists()


def test_finance_cannot_write_incidents(api_client, catalogue, finance_user):
    api_client.force_authenticate(finance_user)
    assert api_client.post(reverse("incidents_api:incident-list"), record_data(), format="json").status_code == 403


def test_support_creates_then_transitions(api_client, catalogue, support_user):
    api_client.force_authenticate(support_user)
    response = api_client.post(reverse("incidents_api:incident-list"), record_data(), format="json")
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    url = reverse("incidents_api:incident-transition", args=[pk])
    ok = api_client.post(url, {"action": "acknowledge", "message": "on it"}, format="json")
    assert ok.status_code == 200 and ok.json()["state"] == "acknowledged"
    conflict = api_client.post(url, {"action": "acknowledge", "message": "again"}, format="json")
    assert conflict.status_code == 409
    detail = api_client.get(reverse("incidents_api:incident-detail", args=[pk])).json()
    assert [u["kind"] for u in detail["timeline"]] == ["created", "transition"]
    assert detail["timeline"][1]["actor"] == "sam-support"


def test_list_filters_and_constant_queries(api_client, catalogue, support_user, django_assert_max_num_queries):
    from incidents.records import IncidentRecordSerializer
    from incidents.services import upsert_incident

    for n in range(12):
        data = record_data(
            external_id=f"SW-{n}",
            service="cdn-live" if n % 2 else "rtc-video",
            provider="SwiftCDN" if n % 2 else "Acme RTC",
            regions=["cn-east", "cn-south"],
        )
        s = IncidentRecordSerializer(data=data)
        s.is_valid(raise_exception=True)
        upsert_incident(record=s.to_record(), origin="test")
    api_client.force_authenticate(support_user)
    with django_assert_max_num_queries(6):
        response = api_client.get(reverse("incidents_api:incident-list"), {"service": "cdn-live"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    assert {row["service"] for row in body["results"]} == {"cdn-live"}
    assert body["results"][0]["regions"] == ["cn-east", "cn-south"]


def test_schema_is_served(api_client, support_user):
    api_client.force_authenticate(support_user)
    response = api_client.get(reverse("schema"))
    assert response.status_code == 200
    assert b"/api/incidents/webhook/" in response.content


def test_invalid_filters_are_input_errors_and_the_schema_documents_the_filters(api_client, catalogue, support_user):
    api_client.force_authenticate(support_user)
    url = reverse("incidents_api:incident-list")
    for bad in ({"impact": "total_meltdown"}, {"since": "yesterday"}, {"state": "gone"}):
        response = api_client.get(url, bad)
        assert response.status_code == 400 and list(response.json()) == list(bad), bad
    assert api_client.get(url, {"since": "2026-10-01", "until": "2026-11-01", "search": "x"}).status_code == 200
    schema = api_client.get(reverse("schema"), {"format": "json"}).json()
    documented = {p["name"] for p in schema["paths"]["/api/incidents/"]["get"]["parameters"]}
    assert {"service", "provider", "impact", "state", "cause", "region", "since", "until", "search"} <= documented
