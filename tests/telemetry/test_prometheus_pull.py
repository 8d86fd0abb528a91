"""A real Prometheus (Debian's package) scrapes a small exporter served by the test, with
counters and gauges of known values per minute; pulls over /api/v1/query_range give exactly
the expected 5-minute windows, back-fill a collector outage, and repeat without changes."""

import http.server
import json
import threading
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from telemetry.models import PrometheusSource, TelemetryWindow
from telemetry.prometheus import floor_to_step, pull_source
from telemetry.selectors import prometheus_pull_status
from tests.programs import free_port, program, running, wait_until

MINUTES = 30  # six 5-minute windows of simulated history, one sample a minute
SERIES = {  # (service, region): per-minute increments of requests and failures
    ("rtc-video", "cn-east"): (lambda j: 200 + 7 * j, lambda j: j % 2),
    ("rtc-video", "cn-south"): (lambda j: 150 + j, lambda j: 0),
    ("cdn-edge", "cn-east"): (lambda j: 10, lambda j: 0),  # a service we do not know
}


def stall(minute):  # gauge: steps up every 5 minutes
    return Decimal("1") + Decimal("0.25") * (minute // 5)


def exposition(start: datetime) -> bytes:
    """Every minute's samples with explicit timestamps: one scrape gives Prometheus the whole history."""
    lines = ["# TYPE requests_total counter", "# TYPE failed_requests_total counter", "# TYPE stall_rate_percent gauge"]
    for (service, region), (requests, failed) in SERIES.items():
        labels = f'service="{service}",region="{region}"'
        for minute in range(MINUTES + 1):
            ms = int((start + timedelta(minutes=minute)).timestamp() * 1000)
            total = sum(requests(j) for j in range(1, minute + 1))
            fails = sum(failed(j) for j in range(1, minute + 1))
            lines.append(f"requests_total{{{labels}}} {total} {ms}")
            lines.append(f"failed_requests_total{{{labels}}} {fails} {ms}")
            lines.append(f"stall_rate_percent{{{labels}}} {stall(minute)} {ms}")
    return ("\n".join(lines) + "\n").encode()


def expected_window(service, region, index):
    """Window ``index``: the increments of minutes 5i+1 … 5i+5 and the gauge at its end."""
    requests, failed = SERIES[(service, region)]
    minutes = range(5 * index + 1, 5 * index + 6)
    return sum(requests(j) for j in minutes), sum(failed(j) for j in minutes), stall(5 * index + 5)


@pytest.fixture
def make_user(db):
    """Users for force_login, without hashing a password (the slow part of the shared fixture)."""
    from django.contrib.auth.models import Group, User

    def _make(username, *role_names):
        user = User.objects.create(username=username)
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in role_names))
        return user

    return _make


@pytest.fixture
def prometheus(tmp_path):
    """An exporter thread and a real Prometheus scraping it; yields (Prometheus URL, history start)."""
    # History ends 15 minutes ago and starts 45 minutes ago: inside Prometheus's one-hour
    # window for samples older than the newest one.
    start = floor_to_step(datetime.now(UTC)) - timedelta(minutes=MINUTES + 15)
    body = exposition(start)

    class Exporter(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    exporter = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Exporter)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 200ms, scrape_timeout: 150ms}\n"
        "scrape_configs:\n"
        f"  - job_name: exporter\n    static_configs: [{{targets: ['127.0.0.1:{exporter.server_port}']}}]\n"
    )
    args = [
        program("prometheus"),
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=error",
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        with running(args, ready_url=f"{base}/-/ready", log_path=tmp_path / "prometheus.log"):
            yield base, start
    finally:
        exporter.shutdown()
        exporter.server_close()


def scraped_until(base, at: datetime) -> bool:
    query = urllib.parse.urlencode({"query": "count(timestamp(requests_total) == time())", "time": at.timestamp()})
    with urllib.request.urlopen(f"{base}/api/v1/query?{query}", timeout=2) as response:  # noqa: S310 - loopback
        result = json.loads(response.read())["data"]["result"]
    return bool(result) and result[0]["value"][1] == str(len(SERIES))


def windows(region):
    return list(TelemetryWindow.objects.filter(service__code="rtc-video", region__code=region).order_by("window_start"))


def test_pull_from_real_prometheus(prometheus, catalogue):
    base, start = prometheus
    end = start + timedelta(minutes=MINUTES)
    wait_until(lambda: scraped_until(base, end), timeout=40, what="Prometheus to scrape the exporter")
    source = PrometheusSource.objects.create(
        name="prom",
        base_url=base,
        backfill_hours=1,
        settle_seconds=0,
        stall_rate_query="max by (service, region) (stall_rate_percent)",
    )

    # The first pull, 16 minutes into the history: the three windows that are over.
    first = pull_source(source_id=source.pk, now=start + timedelta(minutes=16))
    assert first.error == "" and first.pulled_until == start + timedelta(minutes=15)
    east = windows("cn-east")
    assert [w.window_start for w in east] == [start + timedelta(minutes=5 * i) for i in range(3)]
    for i, w in enumerate(east):
        assert (w.requests, w.failed_requests, w.stall_rate_percent) == expected_window("rtc-video", "cn-east", i)
        assert (w.window_minutes, w.source) == (5, "prometheus:prom")
    assert any("cdn-edge/cn-east" in note for note in first.notes)
    status = prometheus_pull_status(now=start + timedelta(minutes=16))
    assert status == [
        {
            "name": "prom",
            "pulled_until": start + timedelta(minutes=15),
            "lag_minutes": 1,
            "last_pull_at": start + timedelta(minutes=16),
            "last_error": "",
            "notes": first.notes,
        }
    ]

    # The collector was down for a while: the next pull back-fills every window since.
    later = start + timedelta(minutes=MINUTES + 2)
    second = pull_source(source_id=source.pk, now=later)
    assert (second.windows, second.created, second.pulled_until) == (6, 6, end)
    for region in ("cn-east", "cn-south"):
        got = [(w.requests, w.failed_requests, w.stall_rate_percent) for w in windows(region)]
        assert got == [expected_window("rtc-video", region, i) for i in range(6)]

    # Pulling again changes nothing; nor does a restart that lost the cursor (it resumes
    # after the last stored window).
    assert pull_source(source_id=source.pk, now=later).windows == 0
    PrometheusSource.objects.filter(pk=source.pk).update(pulled_until=None)
    assert pull_source(source_id=source.pk, now=later).windows == 0
    # Windows lost after the cursor was lost too: pulled again, with the same values.
    PrometheusSource.objects.filter(pk=source.pk).update(pulled_until=None)
    TelemetryWindow.objects.filter(window_start__gte=start + timedelta(minutes=20)).delete()
    again = pull_source(source_id=source.pk, now=later)
    assert (again.windows, again.created) == (4, 4)
    for region in ("cn-east", "cn-south"):
        got = [(w.requests, w.failed_requests, w.stall_rate_percent) for w in windows(region)]
        assert got == [expected_window("rtc-video", region, i) for i in range(6)]


def test_unreachable_prometheus_keeps_the_cursor_and_reports(catalogue):
    source = PrometheusSource.objects.create(
        name="down", base_url=f"http://127.0.0.1:{free_port()}", backfill_hours=1, settle_seconds=0
    )
    result = pull_source(source_id=source.pk, now=datetime(2026, 11, 1, 12, 0, tzinfo=UTC))
    assert "did not answer" in result.error
    source.refresh_from_db()
    assert source.pulled_until is None and "did not answer" in source.last_error
    assert not TelemetryWindow.objects.exists()


def test_sla_pages_show_the_pull_lag(client, support_user, catalogue):
    from django.urls import reverse
    from django.utils import timezone

    PrometheusSource.objects.create(
        name="prom-main", base_url="http://127.0.0.1:9", pulled_until=timezone.now() - timedelta(minutes=7, seconds=5)
    )
    PrometheusSource.objects.create(name="prom-new", base_url="http://127.0.0.1:9", last_error="HTTP 400: parse error")
    client.force_login(support_user)
    html = client.get(reverse("sla:index")).content.decode()
    assert "prom-main" in html and "(lag 7 minutes)" in html
    assert "prom-new" in html and "nothing pulled yet" in html and "HTTP 400: parse error" in html
    zh = client.get(reverse("sla:index"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "来自 Prometheus 的遥测数据" in zh


def test_beat_runs_the_pull_every_minute(catalogue):
    from django.conf import settings

    from telemetry.tasks import pull_prometheus

    entry = settings.CELERY_BEAT_SCHEDULE["telemetry-prometheus-pull"]
    assert (entry["task"], entry["schedule"]) == (pull_prometheus.name, 60)
    PrometheusSource.objects.create(name="off", base_url="http://127.0.0.1:9", is_active=False)
    PrometheusSource.objects.create(name="down", base_url=f"http://127.0.0.1:{free_port()}")
    assert pull_prometheus.apply().get() == ["down"]  # one pull task per active source (eager here)
    down = PrometheusSource.objects.get(name="down")
    assert "did not answer" in down.last_error and down.last_pull_at is not None
    assert not PrometheusSource.objects.get(name="off").last_pull_at
