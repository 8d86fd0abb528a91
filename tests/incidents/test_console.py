import pytest
from django.urls import reverse

from incidents.models import Incident, IncidentState
from tests.conftest import browser_login

pytestmark = pytest.mark.django_db


def test_support_records_edits_and_resolves_an_incident(client, catalogue, support_user):
    client.force_login(support_user)
    services, regions = catalogue["services"], catalogue["regions"]
    response = client.post(
        reverse("incidents:create"),
        {
            "title": "Checkout errors",
            "service": services["platform-api"].pk,
            "regions": [regions["cn-east"].pk],
            "impact": "partial_outage",
            "cause": "platform",
            "started_at": "2026-10-05T20:00",
            "detected_at": "2026-10-05T20:03",
            "message": "Seen on the dashboard",
        },
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.source == "console" and incident.started_at.isoformat() == "2026-10-05T12:00:00+00:00"

    response = client.post(
        reverse("incidents:edit", args=[incident.pk]),
        {
            "title": "Checkout errors (payments)",
            "service": services["platform-api"].pk,
            "regions": [regions["cn-east"].pk, regions["cn-north"].pk],
            "impact": "major_outage",
            "cause": "platform",
            "started_at": "2026-10-05T20:00",
            "detected_at": "2026-10-05T20:03",
        },
    )
    assert response.status_code == 302
    client.post(
        reverse("incidents:transition", args=[incident.pk]),
        {"action": "resolve", "at": "2026-10-05T21:30", "message": "Rolled back"},
    )
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED and incident.impact == "major_outage"
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    timeline = _timeline(page)
    assert "Rolled back" in timeline
    # The edit is shown with labels, in the console's time zone, not as raw codes.
    assert "Title: Checkout errors → Checkout errors (payments)" in timeline
    assert "Regions: cn-east → cn-east, cn-north" in timeline
    assert "Impact: Partial outage → Major outage" in timeline
    assert "major_outage" not in timeline and "impact:" not in timeline
    assert "<svg" in page


def _timeline(html: str) -> str:
    import html as html_lib
    import re

    section = html.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section)))


def test_edited_times_are_shown_in_local_time_and_translated(client, catalogue, support_user):
    from incidents.records import IncidentRecordSerializer
    from incidents.services import upsert_incident

    from .conftest import record_data

    for started, impact in (
        ("2026-10-05T20:00:00+08:00", "major_outage"),
        ("2026-10-05T19:30:00+08:00", "partial_outage"),
    ):
        serializer = IncidentRecordSerializer(data=record_data(started_at=started, impact=impact))
        serializer.is_valid(raise_exception=True)
        incident = upsert_incident(record=serializer.to_record(), origin="test").incident
    client.force_login(support_user)
    url = reverse("incidents:detail", args=[incident.pk])
    timeline = _timeline(client.get(url).content.decode())
    assert "Started at: 5 Oct 2026 20:00 → 5 Oct 2026 19:30" in timeline
    assert "Impact: Major outage → Partial outage" in timeline
    timeline = _timeline(client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    assert "影响程度：重大故障 → 部分故障；开始时间：2026年10月5日 20:00 → 2026年10月5日 19:30" in timeline
    assert "Partial outage" not in timeline


def test_console_form_reports_time_order_errors(client, catalogue, support_user):
    client.force_login(support_user)
    response = client.post(
        reverse("incidents:create"),
        {
            "title": "X",
            "service": catalogue["services"]["rtc-video"].pk,
            "regions": [catalogue["regions"]["cn-east"].pk],
            "impact": "major_outage",
            "cause": "provider",
            "started_at": "2026-10-05T20:00",
            "detected_at": "2026-10-05T19:00",
        },
    )
    assert response.status_code == 400  # drawn again with the error
    assert "must not be before started at" in response.content.decode()
    assert "before started_at" not in response.content.decode()
    assert not Incident.objects.exists()


def test_finance_can_read_but_not_create(client, catalogue, finance_user):
    client.force_login(finance_user)
    assert client.get(reverse("incidents:list")).status_code == 200
    assert client.get(reverse("incidents:create")).status_code == 403


def test_list_filters(client, catalogue, support_user):
    from incidents.demo import seed

    seed(None)
    client.force_login(support_user)
    page = client.get(reverse("incidents:list"), {"service": "cdn-live", "impact": "major_outage"})
    rows = page.context["page"].object_list
    assert rows and all(i.service.code == "cdn-live" and i.impact == "major_outage" for i in rows)
    since = client.get(reverse("incidents:list"), {"since": "2026-10-01", "search": "a"})
    assert since.status_code == 200 and not since.context["filter_errors"]
    bad = client.get(reverse("incidents:list"), {"since": "not-a-day", "impact": "total_meltdown"})
    assert bad.status_code == 400 and set(bad.context["filter_errors"]) == {
        "Active since",
        "Impact",
    }  # labels, not codes
    assert not bad.context["page"].object_list and 'role="alert"' in bad.content.decode()


@pytest.mark.browser
def test_incident_console_in_chromium(page, catalogue, support_user, screenshot):
    browser_login(page, "sam-support")
    page.goto(page.base_url + reverse("incidents:create"))
    page.fill("input[name=title]", "RTC video freeze")
    page.select_option("select[name=service]", label="rtc-video")
    page.select_option("select[name=regions]", label="cn-east")
    page.select_option("select[name=impact]", "major_outage")
    page.select_option("select[name=cause]", "provider")
    page.fill("input[name=started_at]", "2026-10-05T20:00")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Incident recorded.")
    page.select_option("select[name=action]", "acknowledge")
    page.fill("textarea[name=message]", "Vendor paged")
    page.click("main button:has-text('Apply')")
    page.wait_for_selector("text=State changed.")
    assert "Vendor paged" in page.inner_text(".timeline")
    screenshot(page, "incident-detail")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(page.base_url + reverse("incidents:list"))
    assert page.is_visible("text=RTC video freeze")
    screenshot(page, "incident-list-phone")


def _make_incidents(count, start=0):
    from incidents.records import IncidentRecordSerializer
    from incidents.services import upsert_incident

    from .conftest import record_data

    for n in range(start, start + count):
        data = record_data(
            external_id=f"SW-{n}",
            service="cdn-live" if n % 2 else "rtc-video",
            provider="SwiftCDN" if n % 2 else "Acme RTC",
            regions=["cn-east", "cn-south"],
            resolved_at="2026-10-05T21:00:00+08:00" if n % 3 else None,
        )
        serializer = IncidentRecordSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        upsert_incident(record=serializer.to_record(), origin="test")


def test_list_page_runs_a_constant_number_of_queries(client, catalogue, support_user, django_assert_max_num_queries):
    """A full page of 25 costs what a page of 3 costs: no query per row (service, provider, regions)."""
    client.force_login(support_user)
    _make_incidents(3)
    with django_assert_max_num_queries(10) as few:
        response = client.get(reverse("incidents:list"))
    assert len(response.context["page"].object_list) == 3
    _make_incidents(40, start=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("incidents:list"), {"region": "cn-east"})
    page = response.context["page"]
    assert len(page.object_list) == 25 and page.paginator.count == 43
    assert response.content.decode().count("cn-east, cn-south") == 25


def test_console_errors_speak_the_users_language(client, catalogue, support_user):
    from incidents.services import transition_incident

    client.force_login(support_user)
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    form = {
        "title": "X",
        "service": catalogue["services"]["rtc-video"].pk,
        "regions": [catalogue["regions"]["cn-east"].pk],
        "impact": "major_outage",
        "cause": "provider",
        "started_at": "2026-10-05T20:00",
        "detected_at": "2026-10-05T19:00",
    }
    assert "不得早于开始时间" in client.post(reverse("incidents:create"), form, **zh).content.decode()
    form["detected_at"] = "2026-10-05T20:01"
    client.post(reverse("incidents:create"), form)
    incident = Incident.objects.get()
    transition_incident(incident=incident, action="mitigate", actor=support_user, message="rerouted")
    response = client.post(
        reverse("incidents:transition", args=[incident.pk]),
        {"action": "acknowledge", "message": "late ack"},
        follow=True,
        **zh,
    )
    assert "无法执行“确认”：该故障事件当前为“已缓解”。" in response.content.decode()
    response = client.post(
        reverse("incidents:transition", args=[incident.pk]), {"action": "acknowledge", "message": "x"}, follow=True
    )
    assert "“Acknowledge” is not possible: the incident is Mitigated." in response.content.decode()


def test_timeline_names_the_origin_of_unattended_changes(client, catalogue, support_user):
    from incidents.records import IncidentRecordSerializer
    from incidents.services import upsert_incident

    from .conftest import record_data

    serializer = IncidentRecordSerializer(data=record_data())
    serializer.is_valid(raise_exception=True)
    incident = upsert_incident(record=serializer.to_record(), origin="webhook:statuswatch").incident
    client.force_login(support_user)
    timeline = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "Monitoring webhook (statuswatch)" in timeline
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "监控 Webhook（statuswatch）" in client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()


def test_a_start_in_the_future_is_refused_on_the_form(client, catalogue, support_user):
    """A typo such as next year's date would leave an incident nobody can resolve or void."""
    from datetime import timedelta

    from django.utils import timezone

    client.force_login(support_user)
    soon = timezone.localtime() + timedelta(hours=2)
    form = {
        "title": "X",
        "service": catalogue["services"]["rtc-video"].pk,
        "regions": [catalogue["regions"]["cn-east"].pk],
        "impact": "major_outage",
        "cause": "provider",
        "started_at": soon.strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post(reverse("incidents:create"), form, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400 and "不能晚于当前时间" in response.content.decode()
    assert not Incident.objects.exists()
    form["started_at"] = (timezone.localtime() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(reverse("incidents:create"), form)
    assert Incident.objects.count() == 1
