"""Demo SLA contracts (one amended), provider-caused outages that breach a tier, evaluations
and provider credit claims in several states. Deterministic and idempotent."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from incidents.models import Cause, Impact, Incident, IncidentState, IncidentUpdate, Provider, Region, Service

from . import services
from .importer import import_contracts
from .models import CreditClaimState, ProviderCreditClaim

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATALOGUE = [
    ("Acme RTC", Provider.Kind.RTC, [("rtc-video", "Real-time video"), ("rtc-audio", "Real-time audio")]),
    ("SwiftCDN", Provider.Kind.CDN, [("cdn-live", "Live stream CDN")]),
    ("Nimbus RTC", Provider.Kind.RTC, [("nimbus-rtc", "Nimbus real-time video")]),
    ("Platform", Provider.Kind.PLATFORM, [("platform-api", "Platform API and checkout")]),
]
REGIONS = [("cn-east", "East China"), ("cn-north", "North China"), ("cn-south", "South China")]

TIERS = [
    {"below": "99.95", "credit_percent": "10"},
    {"below": "99.0", "credit_percent": "25"},
    {"below": "95.0", "credit_percent": "100"},
]
CONTRACTS = [
    {
        "code": "RTC-2026",
        "provider": "Acme RTC",
        "services": ["rtc-video", "rtc-audio"],
        "currency": "CNY",
        "monthly_fee": "200000.00",
        "timezone": "Asia/Shanghai",
        "effective_from": "2026-01-01",
        "effective_to": "2026-12-31",
        "availability_target": "99.95",
        "partial_outage_weight": "0.5",
        "degraded_weight": "0",
        "maintenance_notice_hours": 48,
        "credit_tiers": TIERS,
        "credit_cap_percent": "100",
        "recovery_targets": [{"impact": "major_outage", "max_minutes": 30, "credit_percent": "5"}],
        "first_response_minutes": 15,
        "claim_window_days": 30,
    },
    {  # the 2027 amendment: a new version, v1 stays readable
        "code": "RTC-2026",
        "version": 2,
        "provider": "Acme RTC",
        "services": ["rtc-video", "rtc-audio"],
        "currency": "CNY",
        "monthly_fee": "230000.00",
        "timezone": "Asia/Shanghai",
        "effective_from": "2027-01-01",
        "effective_to": None,
        "availability_target": "99.95",
        "partial_outage_weight": "0.5",
        "degraded_weight": "0.1",
        "maintenance_notice_hours": 48,
        "credit_tiers": TIERS,
        "credit_cap_percent": "100",
        "recovery_targets": [
            {"impact": "major_outage", "max_minutes": 30, "credit_percent": "5"},
            {"impact": "partial_outage", "max_minutes": 120, "credit_percent": "2"},
        ],
        "first_response_minutes": 15,
        "claim_window_days": 30,
        "amendment_reason": "2027 renewal: higher fee, degraded performance weighs 0.1",
    },
    {
        "code": "CDN-LIVE-2026",
        "provider": "SwiftCDN",
        "services": ["cdn-live"],
        "currency": "CNY",
        "monthly_fee": "80000.00",
        "timezone": "Asia/Shanghai",
        "effective_from": "2026-07-01",
        "effective_to": None,
        "availability_target": "99.9",
        "partial_outage_weight": "0.25",
        "degraded_weight": "0",
        "maintenance_notice_hours": 24,
        "credit_tiers": [{"below": "99.9", "credit_percent": "5"}, {"below": "99.5", "credit_percent": "15"}],
        "credit_cap_percent": "30",
        "recovery_targets": [],
        "first_response_minutes": 10,
        "first_response_credit_percent": "1",
        "claim_window_days": 45,
        "min_downtime_minutes": 5,
        "min_credit_amount": "500.00",
    },
    {
        # Judged on measured error rates (telemetry/demo.py), with a join-time quality target.
        "code": "NIMBUS-2026",
        "provider": "Nimbus RTC",
        "services": ["nimbus-rtc"],
        "currency": "CNY",
        "monthly_fee": "150000.00",
        "timezone": "Asia/Shanghai",
        "effective_from": "2026-06-01",
        "availability_target": "99.95",
        "credit_tiers": [{"below": "99.95", "credit_percent": "10"}, {"below": "99.0", "credit_percent": "25"}],
        "credit_cap_percent": "30",
        "maintenance_notice_hours": 48,
        "first_response_minutes": 15,
        "availability_method": "error_rate_windows",
        "error_rate_threshold_percent": "0.4",
        "min_requests_per_window": 250,
        "min_down_run_minutes": 10,
        "quality_targets": [
            {"metric": "join_p95_ms", "max": "600", "min_compliance_percent": "99.0", "credit_percent": "5"},
            {"metric": "hd_share_percent", "min": "80", "min_compliance_percent": "95", "credit_percent": "3"},
        ],
    },
]

# (external id, service, impact, start in Shanghai time, minutes to resolve, minutes to acknowledge)
OUTAGES = [
    ("SLA-DEMO-0901", "rtc-video", Impact.MAJOR_OUTAGE, datetime(2026, 9, 12, 20, 5), 42, 9),
    ("SLA-DEMO-0902", "rtc-audio", Impact.PARTIAL_OUTAGE, datetime(2026, 9, 19, 21, 30), 50, 20),
    ("SLA-DEMO-0903", "cdn-live", Impact.MAJOR_OUTAGE, datetime(2026, 9, 25, 19, 0), 3, 2),
    ("SLA-DEMO-1001", "rtc-video", Impact.MAJOR_OUTAGE, datetime(2026, 10, 11, 20, 40), 95, 12),
    ("SLA-DEMO-1002", "rtc-video", Impact.PARTIAL_OUTAGE, datetime(2026, 10, 11, 21, 0), 180, 12),
    ("SLA-DEMO-1003", "cdn-live", Impact.MAJOR_OUTAGE, datetime(2026, 10, 18, 20, 0), 70, 14),
]


def seed_catalogue():
    regions = {code: Region.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in REGIONS}
    for name, kind, svcs in CATALOGUE:
        provider, _ = Provider.objects.get_or_create(name=name, defaults={"kind": kind})
        for code, label in svcs:
            Service.objects.get_or_create(code=code, defaults={"provider": provider, "name": label})
    return regions


def seed_outages(regions):
    for external_id, service, impact, local_start, minutes, ack in OUTAGES:
        start = local_start.replace(tzinfo=SHANGHAI)
        incident, created = Incident.objects.get_or_create(
            source="sla-demo",
            external_id=external_id,
            defaults={
                "title": f"{service} {impact.label.lower()} during evening live streams",
                "service": Service.objects.get(code=service),
                "impact": impact,
                "cause": Cause.PROVIDER,
                "state": IncidentState.RESOLVED,
                "started_at": start,
                "detected_at": start + timedelta(minutes=1),
                "acknowledged_at": start + timedelta(minutes=1 + ack),
                "resolved_at": start + timedelta(minutes=minutes),
            },
        )
        if created:
            incident.regions.set([regions["cn-east"], regions["cn-north"]])
            IncidentUpdate.objects.create(
                incident=incident,
                kind=IncidentUpdate.Kind.CREATED,
                to_state=IncidentState.RESOLVED,
                message="SLA demo: provider post-mortem",
                origin="demo",
            )


def seed(stdout):
    regions = seed_catalogue()
    report = import_contracts(CONTRACTS)
    seed_outages(regions)
    pairs = [
        (code, f"2026-{m:02d}") for code in ("RTC-2026", "CDN-LIVE-2026", "NIMBUS-2026") for m in (7, 8, 9, 10, 11)
    ]
    services.recompute(pairs=pairs)
    finance = User.objects.filter(username="finance").first()
    # September's Acme credit went through the whole cycle; October's is still to file.
    september = ProviderCreditClaim.objects.filter(contract_code="RTC-2026", period="2026-09-01").first()
    if september is not None and september.state == CreditClaimState.DUE:
        september = services.file_claim(
            claim=september,
            by=finance,
            reference="ACME-SLA-2026-09",
            description="Sent to Acme",
            amount_claimed=september.amount_claimed,
        )
        september = services.acknowledge_claim(
            claim=september, by=finance, description="Acme account manager confirmed"
        )
        services.credit_claim(
            claim=september, by=finance, amount=september.amount_claimed, description="Credit note on invoice"
        )
    stdout.write(
        f"SLA: {len(report.created)} contract versions created, "
        f"{ProviderCreditClaim.objects.count()} provider credit claims; "
        f"{sum(1 for c in ProviderCreditClaim.objects.all() if c.amount_claimed > Decimal(0))} with a credit."
    )
