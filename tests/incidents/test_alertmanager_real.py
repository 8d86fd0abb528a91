"""A real Alertmanager (Debian's prometheus-alertmanager) routes alerts posted to its own
API to our receivers on the live test server: incidents open and resolve with the mapped
service, regions and impact; grouped, repeated and post-restart notifications change nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.demo import seed_catalogue
from incidents.models import AlertSource, Incident, IncidentState, IncidentUpdate, ReceivedAlert
from tests.programs import free_port, post_json, program, running, wait_until

CONFIG = """
route:
  receiver: bearer
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['team="edge"']
      receiver: basic
receivers:
  - name: bearer
    webhook_configs:
      - url: {base}/api/incidents/receivers/prom-am/
        max_alerts: 0
        http_config:
          authorization:
            type: Bearer
            credentials: am-bearer-token
  - name: basic
    webhook_configs:
      - url: {base}/api/incidents/receivers/prom-am-basic/
        http_config:
          basic_auth:
            username: alertmanager
            password: am-basic-password
"""


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def alertmanager(live_server, tmp_path):
    """Start Alertmanager pointed at the live server; yields a function that (re)starts it
    and returns its API base URL."""
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG.format(base=live_server.url))
    stack = []

    def start(storage="data"):
        port = free_port()
        args = [
            program("prometheus-alertmanager"),
            f"--config.file={config}",
            f"--storage.path={tmp_path / storage}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        base = f"http://127.0.0.1:{port}"
        context = running(args, ready_url=f"{base}/-/ready", log_path=tmp_path / f"{storage}.log")
        context.__enter__()
        stack.append(context)
        return base

    def stop():
        stack.pop().__exit__(None, None, None)

    start.stop = stop
    yield start
    while stack:
        stop()


def am_alert(region, severity, *, starts, ends=None, alertname="RTCDown", **labels):
    alert = {
        "labels": {"alertname": alertname, "service": "rtc-video", "region": region, "severity": severity, **labels},
        "annotations": {"summary": f"rtc-video down in {region}"},
        "startsAt": iso(starts),
    }
    if ends:
        alert["endsAt"] = iso(ends)
    return alert


def by_region(region):
    return Incident.objects.filter(regions__code=region).order_by("started_at")


@pytest.mark.django_db(transaction=True)
def test_real_alertmanager_drives_incidents(alertmanager):
    seed_catalogue()
    AlertSource.objects.create(name="prom-am", auth="bearer", token="am-bearer-token")
    AlertSource.objects.create(name="prom-am-basic", auth="basic", username="alertmanager", token="am-basic-password")
    am = alertmanager()
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)

    # One group with two alerts: two incidents, mapped from the labels.
    east = am_alert("cn-east", "critical", starts=started)
    north = am_alert("cn-north", "warning", starts=started)
    assert post_json(f"{am}/api/v2/alerts", [east, north]) == 200
    wait_until(lambda: Incident.objects.count() == 2, what="two incidents")
    incident = by_region("cn-east").get()
    assert (incident.source, incident.service.code, incident.impact) == ("prom-am", "rtc-video", "major_outage")
    assert incident.state == IncidentState.DETECTED and incident.started_at == started
    assert by_region("cn-north").get().impact == "partial_outage"

    # An alert for the basic-auth receiver that no mapping places: kept for staff.
    edge = am_alert("eu-west", "critical", starts=started, alertname="EdgeDown", team="edge")
    post_json(f"{am}/api/v2/alerts", [edge])
    unmapped = wait_until(lambda: ReceivedAlert.objects.filter(source__name="prom-am-basic").first(), what="unmapped")
    assert unmapped.incident is None and "unknown region(s) eu-west" in unmapped.problem

    # cn-east recovers: Alertmanager sends the group again (cn-north still firing).
    ended = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    post_json(f"{am}/api/v2/alerts", [am_alert("cn-east", "critical", starts=started, ends=ended)])
    wait_until(lambda: by_region("cn-east").get().state == IncidentState.RESOLVED, what="cn-east resolved")
    assert by_region("cn-east").get().resolved_at == ended
    north_incident = by_region("cn-north").get()
    assert north_incident.state == IncidentState.DETECTED
    assert north_incident.updates.count() == 1  # the repeat in the group notification changed nothing
    assert ReceivedAlert.objects.get(incident=north_incident).notifications >= 2

    # Alertmanager restarts without its state and Prometheus re-sends what still fires:
    # the notification arrives again and changes nothing.
    alertmanager.stop()
    am = alertmanager(storage="after-restart")
    updates_before = IncidentUpdate.objects.count()
    seen = ReceivedAlert.objects.get(incident=north_incident).notifications
    post_json(f"{am}/api/v2/alerts", [north])
    wait_until(
        lambda: ReceivedAlert.objects.get(incident=north_incident).notifications > seen, what="re-sent notification"
    )
    assert Incident.objects.count() == 2 and IncidentUpdate.objects.count() == updates_before

    # cn-east fires again later: a new incident, the resolved one stays resolved.
    refired = datetime.now(UTC).replace(microsecond=0)
    post_json(f"{am}/api/v2/alerts", [am_alert("cn-east", "critical", starts=refired)])
    wait_until(lambda: by_region("cn-east").count() == 2, what="re-fire")
    first, second = by_region("cn-east")
    assert first.state == IncidentState.RESOLVED and second.state == IncidentState.DETECTED
    assert second.started_at == refired
