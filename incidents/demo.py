"""Demo providers, services, regions, a month of incidents of every impact level, and
maintenance windows. Deterministic (fixed seed and dates) and idempotent (upserts)."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .models import AlertSource, Cause, Impact, Incident, Provider, Region, Service, WebhookSource
from .records import IncidentRecord, MaintenanceRecord
from .services import upsert_incident, upsert_maintenance_window

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROVIDERS = [
    ("Acme RTC", Provider.Kind.RTC, [("rtc-video", "Real-time video"), ("rtc-audio", "Real-time audio")]),
    ("SwiftCDN", Provider.Kind.CDN, [("cdn-live", "Live stream CDN")]),
    ("Platform", Provider.Kind.PLATFORM, [("platform-api", "Platform API and checkout")]),
]
REGIONS = [("cn-east", "East China"), ("cn-north", "North China"), ("cn-south", "South China")]
TITLES = {
    Impact.MAJOR_OUTAGE: ["{svc} down in {reg}", "{svc} unreachable for all streams in {reg}"],
    Impact.PARTIAL_OUTAGE: ["{svc} failing for part of the streams in {reg}", "{svc} packet loss spikes in {reg}"],
    Impact.DEGRADED_PERFORMANCE: ["{svc} elevated latency in {reg}", "{svc} slow first frame in {reg}"],
}


def seed_catalogue():
    regions = {code: Region.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in REGIONS}
    services = {}
    for name, kind, svcs in PROVIDERS:
        provider, _ = Provider.objects.get_or_create(name=name, defaults={"kind": kind})
        for code, label in svcs:
            services[code] = Service.objects.get_or_create(code=code, defaults={"provider": provider, "name": label})[0]
    WebhookSource.objects.get_or_create(name="statuswatch", defaults={"secret": "demo-webhook-secret"})
    return services, regions


def seed(stdout):
    services, regions = seed_catalogue()
    rng = random.Random(20261001)
    month_start = datetime(2026, 10, 1, tzinfo=SHANGHAI)
    impacts = list(Impact.values)
    causes = [Cause.PROVIDER] * 5 + [Cause.PLATFORM, Cause.THIRD_PARTY, Cause.UNKNOWN, Cause.MERCHANT]
    codes = ["rtc-video", "rtc-video", "rtc-audio", "cdn-live", "cdn-live", "platform-api"]
    for n in range(1, 41):
        code = codes[n % len(codes)]
        impact = impacts[n % 3]
        start = month_start + timedelta(
            days=rng.randrange(0, 55), hours=rng.randrange(9, 23), minutes=rng.randrange(60)
        )
        detected = start + timedelta(minutes=rng.randrange(1, 6))
        acked = detected + timedelta(minutes=rng.randrange(2, 25))
        resolved = acked + timedelta(minutes=rng.randrange(10, 150))
        region_codes = rng.sample(sorted(regions), k=rng.randrange(1, 3))
        cause = Cause.PLATFORM if code == "platform-api" else causes[n % len(causes)]
        ongoing = n == 40
        external_id = f"SW-{2026_10_00 + n}"
        # Seeded once: what someone did to it in the demo since (resolved it, edited it) stays.
        # (The random draws above still happen, so the other incidents keep their data.)
        if Incident.objects.filter(source="statuswatch", external_id=external_id).exists():
            continue
        upsert_incident(
            record=IncidentRecord(
                source="statuswatch",
                external_id=external_id,
                title=rng.choice(TITLES[impact]).format(svc=code, reg="/".join(region_codes)),
                service=services[code],
                regions=tuple(regions[c] for c in sorted(region_codes)),
                impact=impact,
                cause=cause,
                started_at=start,
                detected_at=detected,
                acknowledged_at=acked,
                resolved_at=None if ongoing else resolved,
                message="Imported from the StatusWatch monitoring feed",
            ),
            origin="demo",
        )
    # An Alertmanager receiver to try: /api/incidents/receivers/alertmanager/ with this bearer token.
    AlertSource.objects.get_or_create(
        name="alertmanager", defaults={"auth": "bearer", "token": "demo-alertmanager-token"}
    )
    for day, hours_notice in [(6, 72), (20, 2)]:  # one announced on time, one late
        starts = datetime(2026, 10, day, 2, 0, tzinfo=SHANGHAI)
        upsert_maintenance_window(
            record=MaintenanceRecord(
                service=services["rtc-video"],
                regions=tuple(regions.values()),
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                announced_at=starts - timedelta(hours=hours_notice),
                description=f"Planned media server upgrade ({hours_notice} h notice)",
            )
        )
