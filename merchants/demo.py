"""Demo merchants, their users, live sessions and per-minute metrics (deterministic, idempotent).

Each demo merchant streams most evenings of 2026-10 and 2026-11 (Asia/Shanghai) on
``rtc-video`` or ``cdn-live`` in cn-east / cn-north / cn-south, for two to four hours, with a
realistic GMV curve: a warm-up ramp, noise, flash sales every ~40 minutes and a wind-down.
``curve()`` regenerates any session's undisturbed figures, so an outage can be applied on top
(``apply_outage``, used by the claims demo) and re-applied without drift.
"""

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from accounts.demo import ensure_user

from .models import LiveSession, Merchant, SessionMinute

MERCHANTS = [
    ("tea-house", "西湖茶庄 West Lake Tea", "Asia/Shanghai", "CNY"),
    ("silk-road", "丝路服饰 Silk Road Apparel", "Asia/Shanghai", "CNY"),
    ("glow-beauty", "光彩美妆 Glow Beauty", "Asia/Shanghai", "CNY"),
    ("snack-king", "零食大王 Snack King", "Asia/Shanghai", "CNY"),
]
# code: (declared margin, GMV per minute at full audience, peak viewers, ad spend per minute,
#        service, regions, evening start hour)
PROFILES = {
    "tea-house": (Decimal("0.45"), 260, 1800, Decimal("6.00"), "rtc-video", ("cn-east",), 19),
    "silk-road": (Decimal("0.35"), 900, 5200, Decimal("18.00"), "cdn-live", ("cn-east", "cn-north"), 20),
    "glow-beauty": (None, 1500, 9000, Decimal("35.00"), "rtc-video", ("cn-south", "cn-east"), 20),
    "snack-king": (Decimal("0.25"), 420, 4000, Decimal("9.00"), "cdn-live", ("cn-north", "cn-south"), 18),
}
FIRST_DAY = datetime(2026, 10, 1, tzinfo=ZoneInfo("Asia/Shanghai"))
DAYS = 56  # 2026-10-01 .. 2026-11-25
PREFIX = "DEMO-LIVE-"
SECOND_STUDIO = f"{PREFIX}silk-road-20261122-studio2"
CENT = Decimal("0.01")
MINUTE = timedelta(minutes=1)


def plan():
    """The demo sessions: (merchant code, external id, service, region, start UTC, minutes)."""
    rng = random.Random(20261101)
    sessions = []
    for code, (_m, _g, _v, _a, service, regions, hour) in PROFILES.items():
        for day in range(DAYS):
            if rng.random() < 0.45:  # streams a bit more than every other evening
                continue
            start = FIRST_DAY + timedelta(days=day, hours=hour, minutes=rng.choice([0, 0, 15, 30]))
            minutes = rng.randrange(120, 241, 15)
            region = regions[day % len(regions)]
            sessions.append((code, f"{PREFIX}{code}-{start:%Y%m%d}", service, region, start.astimezone(UTC), minutes))
    # Silk Road streams from a second studio (the other region) on 2026-11-22, at the same time:
    # one incident then hits both sessions (see ``losses.demo``: one dips, the other sells more).
    for code, sid, service, region, start, minutes in list(sessions):
        if sid == f"{PREFIX}silk-road-20261122":
            other = next(r for r in PROFILES[code][5] if r != region)
            sessions.append((code, SECOND_STUDIO, service, other, start, minutes))
    return sessions


def curve(code: str, external_id: str, minutes: int) -> list[tuple[int, int, Decimal, Decimal]]:
    """(viewers, orders, gmv, ad_spend) for each minute of an undisturbed session."""
    _margin, gmv_level, viewers_peak, ad, *_ = PROFILES[code]
    rng = random.Random(external_id)
    day_factor = 0.75 + 0.5 * rng.random()
    price = gmv_level / 6
    rows = []
    for i in range(minutes):
        ramp = min(1.0, (i + 1) / 18)
        wind_down = min(1.0, (minutes - i) / 12)
        flash = 2.4 if i % 40 in (30, 31, 32, 33, 34) else 1.0
        audience = day_factor * ramp * wind_down * (0.85 + 0.3 * rng.random())
        viewers = int(viewers_peak * audience)
        gmv = Decimal(gmv_level * audience * flash).quantize(CENT, ROUND_HALF_UP)
        orders = int(gmv / Decimal(str(round(price, 2))))
        rows.append((viewers, orders, gmv, ad if i < minutes - 5 else Decimal("0.00")))
    return rows


def seed(stdout):
    merchants = {}
    for n, (code, name, tz, currency) in enumerate(MERCHANTS, start=1):
        merchant, _ = Merchant.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "timezone": tz,
                "currency": currency,
                "margin_rate": PROFILES[code][0],
                # Finance locks a batch only for merchants it can pay.
                "payout_account_name": name,
                "payout_bank": "Demo Bank",
                "payout_account_number": f"6222{n:012d}",
            },
        )
        user = ensure_user(code.replace("-", ""), "merchant", name)
        # The demo's merchant user administers its merchant: it may change the payout details.
        merchant.memberships.get_or_create(user=user, defaults={"is_admin": True})
        merchants[code] = merchant
    sessions = plan()
    existing = set(LiveSession.objects.filter(external_id__startswith=PREFIX).values_list("external_id", flat=True))
    new = [
        LiveSession(
            merchant=merchants[code],
            external_id=sid,
            service_code=service,
            region_code=region,
            started_at=start,
            ended_at=start + minutes * MINUTE,
        )
        for code, sid, service, region, start, minutes in sessions
        if sid not in existing
    ]
    LiveSession.objects.bulk_create(new, batch_size=500)
    if not new:
        return
    ids = dict(
        LiveSession.objects.filter(external_id__in=[s.external_id for s in new]).values_list("external_id", "id")
    )
    rows = []
    for code, sid, _service, _region, start, minutes in sessions:
        if sid not in ids:
            continue
        for i, (viewers, orders, gmv, ad) in enumerate(curve(code, sid, minutes)):
            rows.append(
                SessionMinute(
                    session_id=ids[sid],
                    minute=start + i * MINUTE,
                    viewers=viewers,
                    orders=orders,
                    gmv=gmv,
                    ad_spend=ad,
                )
            )
    SessionMinute.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    stdout.write(f"merchants: {len(new)} demo live sessions, {len(rows)} metric minutes")


def apply_boost(external_id: str, start: datetime, end: datetime, factor: Decimal) -> int:
    """Let one demo session sell ``factor`` of its usual figures during [start, end). Idempotent."""
    session = LiveSession.objects.select_related("merchant").filter(external_id=external_id).first()
    if session is None or session.ended_at is None:
        return 0
    minutes = int((session.ended_at - session.started_at) / MINUTE)
    base = curve(session.merchant.code, session.external_id, minutes)
    changed = []
    for row in SessionMinute.objects.filter(session=session, minute__gte=start.replace(second=0), minute__lt=end):
        i = int((row.minute - session.started_at) / MINUTE)
        if 0 <= i < minutes:
            viewers, orders, gmv, _ad = base[i]
            row.viewers, row.orders = int(viewers * factor), int(orders * factor)
            row.gmv = (gmv * factor).quantize(CENT, ROUND_HALF_UP)
            changed.append(row)
    SessionMinute.objects.bulk_update(changed, ["viewers", "orders", "gmv"], batch_size=2000)
    return len(changed)


def apply_outage(service_code: str, region_codes, start: datetime, end: datetime, factor: Decimal, recovery=10):
    """Let the demo sessions on ``service_code`` in ``region_codes`` sell ``factor`` of their usual
    figures during [start, end), recovering linearly over ``recovery`` minutes. Idempotent."""
    first = start.replace(second=0, microsecond=0)
    tail_end = end + recovery * MINUTE
    sessions = LiveSession.objects.filter(
        external_id__startswith=PREFIX,
        service_code=service_code,
        region_code__in=list(region_codes),
        started_at__lt=tail_end,
        ended_at__gt=first,
    ).select_related("merchant")
    changed = []
    for session in sessions:
        minutes = int(((session.ended_at or tail_end) - session.started_at) / MINUTE)
        base = curve(session.merchant.code, session.external_id, minutes)
        for row in SessionMinute.objects.filter(session=session, minute__gte=first, minute__lt=tail_end):
            i = int((row.minute - session.started_at) / MINUTE)
            if not 0 <= i < minutes:
                continue
            if row.minute < end:
                f = factor
            else:  # recovering
                done = Decimal((row.minute - end) / MINUTE + 1) / Decimal(recovery + 1)
                f = factor + (1 - factor) * done
            viewers, orders, gmv, _ad = base[i]
            row.viewers = int(viewers * f)
            row.orders = int(orders * f)
            row.gmv = (gmv * f).quantize(CENT, ROUND_HALF_UP)
            changed.append(row)
    SessionMinute.objects.bulk_update(changed, ["viewers", "orders", "gmv"], batch_size=2000)
    return len(changed)
