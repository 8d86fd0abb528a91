"""Demo telemetry: November 2026 in 5-minute windows for two real-time video providers.

Acme RTC (``rtc-video``; its contract RTC-2026 is evaluated by incidents) runs clean. Nimbus
RTC (``nimbus-rtc``; contract NIMBUS-2026, evaluated by error-rate windows, see ``sla/demo.py``)
has one 25-minute run of failing windows on 18 November, which detection turns into an
incident, and a p95 join time over 600 ms in two windows of seven, which breaches its quality
target. Deterministic and idempotent (re-ingesting the same rows changes nothing).
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from incidents.models import Provider, Region, Service

from .detection import detect_for_spans
from .services import ingest_windows

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 1, tzinfo=SHANGHAI)
WINDOWS = 30 * 24 * 12  # November, 5-minute windows
REGIONS = [("cn-east", "East China"), ("cn-south", "South China")]
BAD_RUN = (datetime(2026, 11, 18, 20, 0, tzinfo=SHANGHAI), 5)  # start, windows


def _rows(service: str, region_index: int, *, slow: bool, bad_run: bool):
    bad_start, bad_count = BAD_RUN
    for i in range(WINDOWS):
        start = START + timedelta(minutes=5 * i)
        requests = 2400 + (i * 37 + region_index * 11) % 600
        failed = (i + region_index) % 3
        if bad_run and bad_start <= start < bad_start + timedelta(minutes=5 * bad_count):
            failed = requests * 3 // 10  # 30 %: a partial outage
        join = 520 + (i % 7) * 20 if slow else 420 + (i % 5) * 30  # Nimbus: 620 and 640 ms in 2 of 7
        yield {
            "service": service,
            "region": REGIONS[region_index][0],
            "window_start": start,
            "window_minutes": 5,
            "requests": requests,
            "failed_requests": failed,
            "stall_rate_percent": f"0.{20 + (i + region_index) % 60:02d}",
            "join_p95_ms": join,
            "hd_share_percent": 85 + (i % 11),
            "peak_concurrent": requests * 4,
        }


def seed(stdout):
    for code, name in REGIONS:
        Region.objects.get_or_create(code=code, defaults={"name": name})
    nimbus, _ = Provider.objects.get_or_create(name="Nimbus RTC", defaults={"kind": Provider.Kind.RTC})
    Service.objects.get_or_create(code="nimbus-rtc", defaults={"provider": nimbus, "name": "Nimbus real-time video"})
    rows = []
    for r in range(len(REGIONS)):
        rows += _rows("rtc-video", r, slow=False, bad_run=False)
        rows += _rows("nimbus-rtc", r, slow=True, bad_run=True)
    result = ingest_windows(rows=rows, source="demo")
    # Detection also runs after commit (telemetry.tasks.after_ingest); here at once, so the
    # incident exists for the SLA demo that follows. It is idempotent either way.
    month_end = START + timedelta(days=30)
    services = Service.objects.filter(code__in=["rtc-video", "nimbus-rtc"])
    incidents = detect_for_spans(spans={s.pk: (START, month_end) for s in services})
    stdout.write(
        f"Telemetry: {result.rows} windows ({result.created} new); "
        f"{len(incidents)} incident(s) detected from error-rate runs."
    )
