"""Loss model v2: net shortfall over the affected window against the session's own profile.

Per hit session, with W its affected window and P its level minutes (the minutes of the
``pre_incident_window_minutes`` before the incident and, when the session went on, the first 30
minutes after W), all as minutes of the session counted from its start:

    expected E = A(P) × S(W) / S(P)          (``profile_scaled``)
    net shortfall = E − A(W)                  (make-up sales inside W offset the dip)

where A is this session's GMV and S the summed GMV of the merchant's *profile sessions* at the
same minutes of their own sessions: its other sessions that started in the previous
``historical_days`` days, lasted past P and had no minute in P or W hit by any incident. The
ratio follows the session's shape (ramp, flash-sale spikes, ramp-down) and its level on the
day (a promotion day lifts P and W alike). Fallbacks, in order: with fewer than
``pre_incident_min_minutes`` minutes with data in P, E = S(W) / n × D (``profile``: the
profile's mean, times the platform factor D = GMV per session-minute during W of sessions no
incident touched that started within 15 minutes of this one, over the same merchants' on each
of the previous 7 days); without ``profile_min_sessions`` profile sessions, E = mean GMV of P's
minutes with data × |W| (``pre_incident``); else ``insufficient_data``.

The 90 % interval comes from placebo windows: the same predictor applied to each profile
session at the same minutes (the others as its profile) gives its relative error r; the
half-width is t₉₀(n) × s × E with s = √(Σr²/n) × √(1 + 1/n) (two-sided 90 % Student t, n
placebo windows). When the 90 % interval of the hit sessions' total net shortfall (half-widths
added in quadrature) holds 0, the incident changed nothing measurable: each positive shortfall
is ``within_noise`` and pays 0 (the merchant may still file with evidence).

Heavy sums run in one PostgreSQL query (:data:`SQL`); :func:`sums_portable` computes the same
with the ORM for the SQLite demo. All arithmetic on money is exact (``Fraction``); a figure
the merchant sees is rounded half-up to the cent once, where it is made (the expected GMV, each
session's wasted ad spend; the engine then the lost profit and the amount), and the figures below
it are computed from it as shown, so the claim page adds up with a calculator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from merchants.models import LiveSession, SessionMinute

from .aggregates import CLAIMED_CTES, MINUTE, Window, floor_minute

ZERO = Decimal(0)
CENT = Decimal("0.01")
CALIBRATION_DAYS = 7
POST_MINUTES = 30  # level minutes after the affected window (Q), when the session went on
# Two-sided 90 % Student t quantiles by degrees of freedom (n placebo windows); 1.645 beyond.
T90 = {
    2: "2.920",
    3: "2.353",
    4: "2.132",
    5: "2.015",
    6: "1.943",
    7: "1.895",
    8: "1.860",
    9: "1.833",
    10: "1.812",
    12: "1.782",
    15: "1.753",
    20: "1.725",
    30: "1.697",
}


def _quantile(table: dict, n: int, beyond: str) -> Decimal:
    best = beyond
    for df, value in sorted(table.items(), reverse=True):
        if n <= df:
            best = value
    return Decimal(best)


def t90(n: int) -> Decimal:
    return _quantile(T90, n, "1.645")


@dataclass
class SessionSums:
    """What the v2 formula needs for one hit session (sums exact, from the database)."""

    session_id: int
    external_id: str
    merchant_id: int
    session_start: datetime  # its first minute
    window_start: datetime
    window_end: datetime
    affected: int
    excluded: int
    with_data: int
    actual: Decimal
    ad_spend: Decimal
    pre_minutes: int  # length of P
    pre_n: int  # rows in P
    pre_s: Decimal  # A(P)
    profile: list[tuple[str, Decimal, Decimal]] = field(default_factory=list)  # (session, a(P), a(W))
    calibration: Decimal | None = None  # D, set only when needed


@dataclass
class V2Line:
    sums: SessionSums
    method: str
    expected: Fraction
    shortfall: Fraction  # E − A(W), may be negative
    half_width: Fraction | None  # h × E
    placebo_n: int
    within_noise: bool
    paid: Fraction  # the net shortfall that counts (0 when within noise or negative)
    lost_profit: Fraction
    wasted: Fraction

    @property
    def low(self) -> Fraction | None:
        return None if self.half_width is None else self.shortfall - self.half_width

    @property
    def high(self) -> Fraction | None:
        return None if self.half_width is None else self.shortfall + self.half_width


def _spread(errors: list[Fraction]) -> Decimal | None:
    """√(Σr²/n) × √(1 + 1/n): the predictor's relative error on a new window (square root in Decimal)."""
    n = len(errors)
    if n < 2:
        return None
    mean_sq = sum((e * e for e in errors), Fraction(0)) / n
    return (Decimal(mean_sq.numerator) / Decimal(mean_sq.denominator) * (1 + Decimal(1) / n)).sqrt()


def round_cents(value: Fraction) -> Decimal:
    """Round an exact amount half-up (away from zero) to the cent, once."""
    cents, rest = divmod(abs(value) * 100, 1)
    cents = int(cents) + (1 if rest >= Fraction(1, 2) else 0)
    return (Decimal(cents if value >= 0 else -cents) * CENT).quantize(CENT)


def cents(value: Fraction) -> Fraction:
    """:func:`round_cents` as a fraction: a figure of record, shown and computed on as shown."""
    return Fraction(round_cents(value))


def frac(value: Decimal) -> Fraction:
    """A Decimal as an exact Fraction, built from its integer ratio (the cheap constructor path)."""
    numerator, denominator = value.as_integer_ratio()
    return Fraction(numerator, denominator)


def placebo_errors(method: str, profile: list[tuple[str, Decimal, Decimal]]) -> list[Fraction]:
    """Relative error of the same predictor on each profile session, the others as its profile."""
    sp = frac(sum((p for _, p, _ in profile), ZERO))
    sw = frac(sum((w for _, _, w in profile), ZERO))
    n = len(profile)
    errors = []
    for _, p_given, w_given in profile:
        p, w = frac(p_given), frac(w_given)
        if method == "profile_scaled":
            rest_p, rest_w = sp - p, sw - w
            if rest_p <= 0:
                continue
            predicted = p * rest_w / rest_p
        else:
            predicted = (sw - w) / (n - 1)
        if predicted > 0:
            errors.append(w / predicted - 1)
    return errors


def line(sums: SessionSums, *, margin: Decimal, pre_min: int, profile_min: int) -> V2Line:
    """The v2 estimate of one session, exact: expected GMV, net shortfall and its interval.

    What it pays is decided by :func:`decide_noise` on all the sessions an incident hit together,
    so ``within_noise``, ``paid``, ``lost_profit`` and ``wasted`` are left at 0 here. (Profile sums
    of cents are added as Decimals, which is exact, and turned into fractions once.)"""
    profile = sums.profile if len(sums.profile) >= profile_min else []
    half = None
    errors: list[Fraction] = []
    zero = Fraction(0)
    if profile:
        sp = frac(sum((p for _, p, _ in profile), ZERO))
        sw = frac(sum((w for _, _, w in profile), ZERO))
    else:
        sp = sw = zero
    if profile and sums.pre_n >= pre_min and sp > 0:
        method = "profile_scaled"
        expected = frac(sums.pre_s) * sw / sp
    elif profile and sums.pre_n < pre_min:
        method = "profile"
        expected = sw / len(profile) * frac(sums.calibration if sums.calibration is not None else Decimal(1))
    elif sums.pre_n >= pre_min:
        method = "pre_incident"
        numerator, denominator = sums.pre_s.as_integer_ratio()
        expected = Fraction(numerator * sums.affected, denominator * sums.pre_n)
    else:
        method = "insufficient_data"
        expected = zero
    if method in {"profile_scaled", "profile"}:
        errors = placebo_errors(method, profile)
        spread = _spread(errors)
        if spread is not None:
            half = frac(t90(len(errors)) * spread) * expected
    # The expected GMV of record is in cents, like the actual GMV it is compared with, so the
    # net shortfall the merchant sees is exactly expected - actual.
    expected = cents(expected)
    return V2Line(
        sums=sums,
        method=method,
        expected=expected,
        shortfall=expected - frac(sums.actual),
        half_width=half,
        placebo_n=len(errors),
        within_noise=False,
        paid=zero,
        lost_profit=zero,
        wasted=zero,
    )


def decide_noise(lines: list[V2Line], margin_of) -> list[V2Line]:
    """Whether an incident changed sales at all is decided on all the sessions it hit together:
    their net shortfalls add up, the half-widths of their 90 % intervals add in quadrature
    (√Σ h²). When that interval of the total holds 0, every positive shortfall is
    ``within_noise`` and counts 0; otherwise each session counts its own positive net shortfall.
    ``margin_of(line)`` gives the margin rate of the line's merchant. Sets what each line pays
    (``within_noise``, ``paid``, ``lost_profit``, ``wasted``) and returns the lines."""
    total = sum((ln.shortfall for ln in lines), Fraction(0))
    squares = sum((ln.half_width * ln.half_width for ln in lines if ln.half_width is not None), Fraction(0))
    band = Fraction(0)
    if squares:
        band = Fraction((Decimal(squares.numerator) / Decimal(squares.denominator)).sqrt())
    quiet = bool(squares) and total <= band
    zero = Fraction(0)
    margins: dict[Decimal, Fraction] = {}
    for ln in lines:
        ln.within_noise = quiet and ln.shortfall > 0
        if ln.shortfall > 0 and not ln.within_noise:
            paid = ln.shortfall
            margin = margin_of(ln)
            if margin not in margins:
                margins[margin] = frac(margin)
            ln.paid, ln.lost_profit = paid, paid * margins[margin]
            # ad spend × paid / expected, rounded once to the cent (a figure the merchant sees)
            ad_n, ad_d = ln.sums.ad_spend.as_integer_ratio()
            ln.wasted = (
                cents(
                    Fraction(
                        ad_n * paid.numerator * ln.expected.denominator,
                        ad_d * paid.denominator * ln.expected.numerator,
                    )
                )
                if ln.expected > 0
                else zero
            )
        else:
            ln.paid = ln.lost_profit = ln.wasted = zero
    return lines


SQL = (
    """
WITH
hit AS (
    SELECT s.id, s.external_id, s.merchant_id,
           date_trunc('minute', s.started_at, 'UTC') AS s_start,
           date_trunc('minute', greatest(s.started_at, %(start)s), 'UTC') AS w_start,
           date_trunc('minute', least(coalesce(s.ended_at, %(end)s), %(end)s) - interval '1 microsecond', 'UTC')
               + interval '1 minute' AS w_end,
           date_trunc('minute', coalesce(s.ended_at, %(now)s), 'UTC') AS s_end
    FROM merchants_livesession s
    WHERE s.service_code = %(service)s AND s.region_code = ANY(%(regions)s)
      AND s.started_at < %(end)s AND (s.ended_at IS NULL OR s.ended_at > %(start)s)
      AND (%(only)s::bigint[] IS NULL OR s.id = ANY(%(only)s::bigint[]))
),
"""
    + CLAIMED_CTES
    + """hit2 AS (
    -- Sessions of one merchant that started in the same minute share their profile sums (key_id).
    SELECT h.*, cr.ranges,
           least(greatest(h.s_start, %(pre_start)s), %(start_minute)s) AS p_start,
           greatest(h.w_end, least(h.w_end + %(post)s, h.s_end, %(now_minute)s)) AS q_end,
           dense_rank() OVER (
               ORDER BY h.merchant_id, h.s_start, h.w_start, h.w_end,
                        greatest(h.w_end, least(h.w_end + %(post)s, h.s_end, %(now_minute)s)),
                        CASE WHEN cr.ranges IS NULL THEN 0 ELSE h.id END
           ) AS key_id
    FROM hit h LEFT JOIN claimed_ranges cr ON cr.session_id = h.id
),
keys AS MATERIALIZED (
    SELECT DISTINCT ON (key_id) key_id, merchant_id, s_start, p_start, w_start, w_end, q_end, ranges
    FROM hit2 ORDER BY key_id
),
incident_ranges AS (
    SELECT sv.code AS service_code, r.code AS region_code,
           date_trunc('minute', i.started_at, 'UTC') AS r_start, coalesce(i.resolved_at, %(now)s) + %(tail)s AS r_end
    FROM incidents_incident i
    JOIN incidents_service sv ON sv.id = i.service_id
    JOIN incidents_incident_regions ir ON ir.incident_id = i.id
    JOIN incidents_region r ON r.id = ir.region_id
    WHERE i.state <> 'voided' AND i.started_at < %(start_minute)s + interval '2 days'
      AND coalesce(i.resolved_at, %(now)s) + %(tail)s > %(hist_start)s
),
cand AS (
    SELECT k.key_id, o.id AS o_id, o.external_id AS o_external_id, k.ranges, k.s_start, k.w_start,
           date_trunc('minute', o.started_at, 'UTC') + (k.p_start - k.s_start) AS o_p_start,
           date_trunc('minute', o.started_at, 'UTC') + (%(start_minute)s - k.s_start) AS o_p_end,
           date_trunc('minute', o.started_at, 'UTC') + (k.w_start - k.s_start) AS o_w_start,
           date_trunc('minute', o.started_at, 'UTC') + (k.w_end - k.s_start) AS o_w_end,
           date_trunc('minute', o.started_at, 'UTC') + (k.q_end - k.s_start) AS o_q_end,
           date_trunc('minute', o.started_at, 'UTC') AS o_start
    FROM keys k
    JOIN merchants_livesession o ON o.merchant_id = k.merchant_id
    WHERE o.started_at >= %(hist_start)s AND o.started_at < %(start_minute)s
      AND o.ended_at IS NOT NULL
      AND o.ended_at >= date_trunc('minute', o.started_at, 'UTC') + (k.q_end - k.s_start)
      AND NOT EXISTS (
          SELECT 1 FROM incident_ranges ir
          WHERE ir.service_code = o.service_code AND ir.region_code = o.region_code
            AND ir.r_start < date_trunc('minute', o.started_at, 'UTC') + (k.q_end - k.s_start)
            AND ir.r_end > date_trunc('minute', o.started_at, 'UTC') + (k.p_start - k.s_start)
      )
),
prof AS (
    SELECT c.key_id, c.o_id, c.o_external_id, x.a_p, x.a_w
    FROM (SELECT * FROM cand ORDER BY o_id) c  -- in id order, as the hit sessions below
    CROSS JOIN LATERAL (
        SELECT coalesce(sum(sm.gmv) FILTER (WHERE sm.minute < c.o_p_end OR sm.minute >= c.o_w_end), 0) AS a_p,
               coalesce(sum(sm.gmv) FILTER (
                   WHERE sm.minute >= c.o_w_start AND sm.minute < c.o_w_end
                     AND NOT coalesce(c.ranges @> (sm.minute - c.o_start + c.s_start), false)
               ), 0) AS a_w
        FROM merchants_sessionminute sm
        WHERE sm.session_id = c.o_id AND sm.minute >= least(c.o_p_start, c.o_w_start) AND sm.minute < c.o_q_end
    ) x
),
prof_arrays AS MATERIALIZED (
    SELECT key_id, array_agg(o_external_id ORDER BY o_id) AS ids,
           array_agg(a_p ORDER BY o_id) AS a_p, array_agg(a_w ORDER BY o_id) AS a_w
    FROM prof GROUP BY key_id
)
SELECT h.id, h.external_id, h.merchant_id, h.s_start, h.w_start, h.w_end,
       x.window_minutes - x.excluded, x.excluded, x.with_data, x.actual, x.ad_spend,
       (extract(epoch FROM %(start_minute)s - h.p_start + h.q_end - h.w_end) / 60)::integer, x.pre_n, x.pre_s,
       pa.ids, pa.a_p, pa.a_w
FROM (SELECT * FROM hit2 ORDER BY id) h  -- sessions in id order: their metric rows are read in storage order
CROSS JOIN LATERAL (
    SELECT y.*,
           (extract(epoch FROM h.w_end - h.w_start) / 60)::integer AS window_minutes,
           coalesce((
               SELECT sum(extract(epoch FROM upper(r) - lower(r)) / 60)
               FROM unnest(h.ranges * tstzmultirange(tstzrange(h.w_start, h.w_end))) AS r
           ), 0)::integer AS excluded
    FROM (
        SELECT count(*) FILTER (WHERE sm.minute < %(start_minute)s OR sm.minute >= h.w_end) AS pre_n,
               coalesce(sum(sm.gmv) FILTER (WHERE sm.minute < %(start_minute)s OR sm.minute >= h.w_end), 0) AS pre_s,
               count(*) FILTER (WHERE sm.minute >= h.w_start AND sm.minute < h.w_end) AS with_data,
               coalesce(sum(sm.gmv) FILTER (WHERE sm.minute >= h.w_start AND sm.minute < h.w_end), 0) AS actual,
               coalesce(sum(sm.ad_spend) FILTER (WHERE sm.minute >= h.w_start AND sm.minute < h.w_end), 0)
                   AS ad_spend
        FROM merchants_sessionminute sm
        WHERE sm.session_id = h.id AND sm.minute >= h.p_start AND sm.minute < h.q_end
          AND (sm.minute < h.w_start OR sm.minute >= h.w_end OR NOT coalesce(h.ranges @> sm.minute, false))
    ) y
) x
LEFT JOIN prof_arrays pa ON pa.key_id = h.key_id
ORDER BY h.merchant_id, h.w_start, h.id
"""
)

CALIBRATION_SQL = """
WITH
incident_ranges AS (
    SELECT sv.code AS service_code, r.code AS region_code,
           date_trunc('minute', i.started_at, 'UTC') AS r_start, coalesce(i.resolved_at, %(now)s) + %(tail)s AS r_end
    FROM incidents_incident i
    JOIN incidents_service sv ON sv.id = i.service_id
    JOIN incidents_incident_regions ir ON ir.incident_id = i.id
    JOIN incidents_region r ON r.id = ir.region_id
    WHERE i.state <> 'voided' AND i.started_at < %(w_end)s
      AND coalesce(i.resolved_at, %(now)s) + %(tail)s > %(w_start)s - %(days)s * interval '1 day'
),
periods AS (
    SELECT d, %(w_start)s - d * interval '1 day' AS p_start, %(w_end)s - d * interval '1 day' AS p_end
    FROM generate_series(0, %(days)s) d
),
live AS (
    -- Untouched sessions that started within 15 minutes of the hit session, at the same clock time
    -- each day: at the same point of their ramp. Earlier days count only merchants live today,
    -- so the days compare the same merchants.
    SELECT p.d, s.id, s.merchant_id, p.p_start, p.p_end
    FROM periods p JOIN merchants_livesession s
        ON s.started_at >= %(s_start)s - d * interval '1 day' - interval '15 minutes'
           AND s.started_at < %(s_start)s - d * interval '1 day' + interval '16 minutes'
           AND (s.ended_at IS NULL OR s.ended_at > p.p_start)
    WHERE NOT EXISTS (
        SELECT 1 FROM incident_ranges ir
        WHERE ir.service_code = s.service_code AND ir.region_code = s.region_code
          AND ir.r_start < p.p_end AND ir.r_end > p.p_start
    )
)
SELECT (l.d = 0) AS today, count(sm.*), coalesce(sum(sm.gmv), 0)
FROM live l JOIN merchants_sessionminute sm
    ON sm.session_id = l.id AND sm.minute >= l.p_start AND sm.minute < l.p_end
WHERE l.merchant_id IN (SELECT merchant_id FROM live WHERE d = 0)
GROUP BY (l.d = 0)
"""


def _params(w: Window) -> dict:
    start_minute = floor_minute(w.start)
    return {
        "incident": w.incident_id,
        "service": w.service_code,
        "regions": list(w.region_codes),
        "start": w.start,
        "end": w.end,
        "now": w.now,
        "tail": w.tail,
        "start_minute": start_minute,
        "pre_start": start_minute - w.pre_minutes * MINUTE,
        "hist_start": start_minute - timedelta(days=w.hist_days),
        "only": w.session_ids,
        "post": POST_MINUTES * MINUTE,
        "now_minute": floor_minute(w.now),
    }


def _factor(today: tuple[int, Decimal], before: tuple[int, Decimal]) -> Decimal | None:
    (n0, s0), (n1, s1) = today, before
    if not n0 or not n1 or not s1:
        return None
    return (s0 / n0) / (s1 / n1)


def calibration(w: Window, s_start: datetime, w_start: datetime, w_end: datetime) -> Decimal | None:
    """D: GMV per session-minute during W of sessions no incident touched that started within 15
    minutes of this one, over the same on the previous 7 days (same clock time)."""
    params: dict[str, Any] = {
        "now": w.now,
        "tail": w.tail,
        "s_start": s_start,
        "w_start": w_start,
        "w_end": w_end,
        "days": CALIBRATION_DAYS,
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CALIBRATION_SQL, params)
            found = {row[0]: (int(row[1]), Decimal(row[2])) for row in cursor.fetchall()}
        return _factor(found.get(True, (0, ZERO)), found.get(False, (0, ZERO)))
    from .aggregates import _incident_ranges

    ranges = _incident_ranges(w, w_start - timedelta(days=CALIBRATION_DAYS), w_end)
    live = []
    for d in range(CALIBRATION_DAYS + 1):
        a, b = w_start - timedelta(days=d), w_end - timedelta(days=d)
        near = s_start - timedelta(days=d)
        sessions = LiveSession.objects.filter(
            started_at__gte=near - 15 * MINUTE, started_at__lt=near + 16 * MINUTE
        ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=a))
        for s in sessions:
            if not any(s.service_code == rs and s.region_code == rr and ra < b and rb > a for rs, rr, ra, rb in ranges):
                live.append((d, s, a, b))
    merchants_today = {s.merchant_id for d, s, _, _ in live if d == 0}
    today: list[Any] = [0, ZERO]
    before: list[Any] = [0, ZERO]
    for d, s, a, b in live:
        if s.merchant_id not in merchants_today:
            continue
        target = today if d == 0 else before
        for gmv in SessionMinute.objects.filter(session=s, minute__gte=a, minute__lt=b).values_list("gmv", flat=True):
            target[0] += 1
            target[1] += gmv
    return _factor(tuple(today), tuple(before))


def _with_calibration(w: Window, sums: list[SessionSums], pre_min: int) -> list[SessionSums]:
    cache: dict[tuple, Decimal | None] = {}
    for s in sums:
        if s.pre_n < pre_min and s.profile:
            key = (s.session_start, s.window_start, s.window_end)
            if key not in cache:
                cache[key] = calibration(w, *key)
            s.calibration = cache[key]
    return sums


def session_sums(w: Window, *, pre_min: int) -> list[SessionSums]:
    if connection.vendor != "postgresql":
        return _with_calibration(w, sums_portable(w), pre_min)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(SQL, _params(w))
        rows = cursor.fetchall()
    result = [
        SessionSums(
            session_id=r[0],
            external_id=r[1],
            merchant_id=r[2],
            session_start=r[3],
            window_start=r[4],
            window_end=r[5],
            affected=r[6],
            excluded=r[7],
            with_data=r[8],
            actual=Decimal(r[9]),
            ad_spend=Decimal(r[10]),
            pre_minutes=max(int(r[11]), 0),
            pre_n=int(r[12]),
            pre_s=Decimal(r[13]),
            profile=list(zip(r[14], map(Decimal, r[15]), map(Decimal, r[16]), strict=True)) if r[14] else [],
        )
        for r in rows
    ]
    return _with_calibration(w, result, pre_min)


# --- portable path (SQLite demo): the same sums with the ORM -------------------------------------


def sums_portable(w: Window) -> list[SessionSums]:
    from .aggregates import _claimed_ranges, _hit_sessions, _incident_ranges

    start_minute = floor_minute(w.start)
    pre_start = start_minute - w.pre_minutes * MINUTE
    hist_start = start_minute - timedelta(days=w.hist_days)
    sessions = _hit_sessions(w)
    if not sessions:
        return []
    claimed = _claimed_ranges(w, [s.id for s in sessions])
    ranges = _incident_ranges(w, hist_start, start_minute + timedelta(days=2))
    result = []
    for s in sessions:
        s_start = floor_minute(s.started_at)
        w_start = floor_minute(max(s.started_at, w.start))
        w_end = floor_minute(min(s.ended_at or w.end, w.end) - timedelta(microseconds=1)) + MINUTE
        p_start = min(max(s_start, pre_start), start_minute)
        s_end = floor_minute(s.ended_at or w.now)
        q_end = max(w_end, min(w_end + POST_MINUTES * MINUTE, s_end, floor_minute(w.now)))
        cl = claimed.get(s.id, [])

        def is_claimed(minute, cl=cl):
            return any(a <= minute < b for a, b in cl)

        sums = SessionSums(
            session_id=s.id,
            external_id=s.external_id,
            merchant_id=s.merchant_id,
            session_start=s_start,
            window_start=w_start,
            window_end=w_end,
            affected=0,
            excluded=0,
            with_data=0,
            actual=ZERO,
            ad_spend=ZERO,
            pre_minutes=int((start_minute - p_start + q_end - w_end) / MINUTE),
            pre_n=0,
            pre_s=ZERO,
        )
        minute = w_start
        while minute < w_end:
            if is_claimed(minute):
                sums.excluded += 1
            else:
                sums.affected += 1
            minute += MINUTE
        for minute, gmv, ad in SessionMinute.objects.filter(
            session_id=s.id, minute__gte=p_start, minute__lt=q_end
        ).values_list("minute", "gmv", "ad_spend"):
            if minute < start_minute or minute >= w_end:
                sums.pre_n += 1
                sums.pre_s += gmv
            elif minute >= w_start and not is_claimed(minute):
                sums.with_data += 1
                sums.actual += gmv
                sums.ad_spend += ad
        others = LiveSession.objects.filter(
            merchant_id=s.merchant_id, started_at__gte=hist_start, started_at__lt=start_minute, ended_at__isnull=False
        ).order_by("id")
        for o in others:
            o_start = floor_minute(o.started_at)
            a, b = o_start + (p_start - s_start), o_start + (q_end - s_start)
            if o.ended_at is None or o.ended_at < b:
                continue
            if any(o.service_code == rs and o.region_code == rr and ra < b and rb > a for rs, rr, ra, rb in ranges):
                continue
            a_p = a_w = ZERO
            for minute, gmv in SessionMinute.objects.filter(
                session_id=o.id, minute__gte=min(a, o_start + (w_start - s_start)), minute__lt=b
            ).values_list("minute", "gmv"):
                if minute < o_start + (start_minute - s_start) or minute >= o_start + (w_end - s_start):
                    a_p += gmv
                elif minute >= o_start + (w_start - s_start) and not is_claimed(minute - o_start + s_start):
                    a_w += gmv
            sums.profile.append((o.external_id, a_p, a_w))
        result.append(sums)
    return result
