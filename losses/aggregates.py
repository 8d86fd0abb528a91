"""Per-session aggregates of an incident's impact, computed set-based.

One PostgreSQL query finds the hit sessions (service code and region code match, time ranges
overlap including the recovery tail), takes each session's affected window of whole minutes,
drops minutes already claimed by an earlier assessment of another incident (a multirange per
session), picks each session's baseline (pre-incident, else historical, else none) and sums,
per session with one index range scan over its metric rows, exact numerators from which
Python derives lost GMV and wasted ad spend with ``Decimal`` (a minute without a row counts
as 0 actual GMV, so it adds ``S`` to ``lost_num``):

* ``lost_num   = Σ max(0, S − n·gmv)``          → lost GMV        = lost_num / n
* ``wasted_num = Σ ad_spend · max(0, S − n·gmv)`` → wasted ad spend = wasted_num / S

where the baseline is ``S / n`` (sum and count of the baseline minutes). Everything in SQL is
exact ``numeric`` arithmetic; the only divisions happen in Python.

On other databases (the SQLite demo) :func:`session_aggregates_portable` computes the same
aggregates with the ORM and Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q

from merchants.models import LiveSession, SessionMinute

MINUTE = timedelta(minutes=1)
ZERO = Decimal(0)


@dataclass
class SessionAggregate:
    session_id: int
    external_id: str
    merchant_id: int
    window_start: datetime
    window_end: datetime
    method: str
    baseline_n: int
    baseline_s: Decimal
    affected: int
    excluded: int
    with_data: int
    actual: Decimal
    ad_spend: Decimal
    lost_num: Decimal
    wasted_num: Decimal
    pre_n: int = 0
    hist_n: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class Window:
    """The incident's parameters for one computation."""

    incident_id: int
    service_code: str
    region_codes: list[str]
    start: datetime  # incident start
    end: datetime  # (resolved_at or now) + recovery tail
    now: datetime
    tail: timedelta
    pre_minutes: int
    pre_min: int
    hist_days: int
    hist_min: int
    session_ids: list[int] | None = None  # restrict to these sessions (chart selector)


def floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


# Minutes already held by an earlier eligible assessment of another incident (a minute is paid
# once): the windows of current, eligible assessments of other (not voided) incidents that were
# first assessed before this incident's assessment of the same merchant (or before now). Both loss
# models put these CTEs after their ``hit`` CTE.
CLAIMED_CTES = """claimed AS (
    SELECT l.session_id, l.window_start, l.window_end
    FROM losses_lossassessmentline l
    JOIN losses_lossassessment a ON a.id = l.assessment_id
    JOIN incidents_incident oi ON oi.id = a.incident_id
    LEFT JOIN losses_lossassessment mine
        ON mine.incident_id = %(incident)s AND mine.merchant_id = a.merchant_id AND mine.is_current
    WHERE a.is_current AND a.incident_id <> %(incident)s AND a.responsibility_percent > 0
      AND oi.state <> 'voided'
      AND l.session_id IN (SELECT id FROM hit)
      AND (a.first_computed_at, a.incident_id) < (coalesce(mine.first_computed_at, %(now)s), %(incident)s)
),
claimed_ranges AS (
    SELECT session_id, range_agg(tstzrange(window_start, window_end)) AS ranges FROM claimed GROUP BY session_id
),
"""


_SQL = (
    """
WITH
hit AS (
    SELECT s.id, s.external_id, s.merchant_id, s.service_code, s.region_code,
           date_trunc('minute', greatest(s.started_at, %(start)s), 'UTC') AS w_start,
           date_trunc('minute', least(coalesce(s.ended_at, %(end)s), %(end)s) - interval '1 microsecond', 'UTC')
               + interval '1 minute' AS w_end
    FROM merchants_livesession s
    WHERE s.service_code = %(service)s AND s.region_code = ANY(%(regions)s)
      AND s.started_at < %(end)s AND (s.ended_at IS NULL OR s.ended_at > %(start)s)
      AND (%(only)s::bigint[] IS NULL OR s.id = ANY(%(only)s::bigint[]))
),
"""
    + CLAIMED_CTES
    + """pre AS (
    -- One row per hit session (a LATERAL aggregate returns exactly one), carrying what the
    -- later steps need, so no step joins a session back to itself: the planner, which has no
    -- statistics for a CTE's output, misjudged each such join by its default 1/200 selectivity
    -- and their product grew with the square of the hit sessions (10^8 rows estimated at 5,000).
    SELECT h.id, h.external_id, h.merchant_id, h.w_start, h.w_end, p.n AS pre_n, p.s AS pre_s
    FROM hit h
    CROSS JOIN LATERAL (
        SELECT count(*) AS n, coalesce(sum(sm.gmv), 0) AS s FROM merchants_sessionminute sm
        WHERE sm.session_id = h.id AND sm.minute >= %(pre_start)s AND sm.minute < %(start_minute)s
    ) p
),
needs_history AS (
    SELECT DISTINCT merchant_id FROM pre WHERE pre_n < %(pre_min)s
),
incident_ranges AS (
    SELECT sv.code AS service_code, r.code AS region_code,
           date_trunc('minute', i.started_at, 'UTC') AS r_start, coalesce(i.resolved_at, %(now)s) + %(tail)s AS r_end
    FROM incidents_incident i
    JOIN incidents_service sv ON sv.id = i.service_id
    JOIN incidents_incident_regions ir ON ir.incident_id = i.id
    JOIN incidents_region r ON r.id = ir.region_id
    WHERE i.state <> 'voided' AND i.started_at < %(start_minute)s
      AND coalesce(i.resolved_at, %(now)s) + %(tail)s > %(hist_start)s
),
hist_sessions AS (
    SELECT s.id, s.merchant_id, s.service_code, s.region_code FROM merchants_livesession s
    WHERE s.merchant_id IN (SELECT merchant_id FROM needs_history)
      AND s.started_at < %(start_minute)s AND (s.ended_at IS NULL OR s.ended_at > %(hist_start)s)
),
history AS (
    -- Each history session's minutes, with its merchant's totals beside them (a window sum),
    -- so a hit session finds both in one join.
    SELECT hs.merchant_id, hs.id AS session_id, x.n, x.s,
           sum(x.n) OVER (PARTITION BY hs.merchant_id) AS merchant_n,
           sum(x.s) OVER (PARTITION BY hs.merchant_id) AS merchant_s
    FROM hist_sessions hs
    CROSS JOIN LATERAL (
        SELECT count(*) AS n, coalesce(sum(sm.gmv), 0) AS s FROM merchants_sessionminute sm
        WHERE sm.session_id = hs.id AND sm.minute >= %(hist_start)s AND sm.minute < %(start_minute)s
          AND NOT EXISTS (
              SELECT 1 FROM incident_ranges ir
              WHERE ir.service_code = hs.service_code AND ir.region_code = hs.region_code
                AND sm.minute >= ir.r_start AND sm.minute < ir.r_end
          )
    ) x
),
hist_merchant AS (SELECT DISTINCT merchant_id, merchant_n AS n, merchant_s AS s FROM history),
chosen AS (
    SELECT b.*, b.hm_n - b.own_n AS hist_n, b.hm_s - b.own_s AS hist_s
    FROM (
        SELECT p.*, coalesce(hm.n, 0) AS hm_n, coalesce(hm.s, 0) AS hm_s,
               coalesce(own.n, 0) AS own_n, coalesce(own.s, 0) AS own_s
        FROM pre p
        LEFT JOIN hist_merchant hm ON hm.merchant_id = p.merchant_id
        -- (grouped, though a session has one history row: the planner then knows it is unique)
        LEFT JOIN (SELECT session_id, sum(n) AS n, sum(s) AS s FROM history GROUP BY session_id) own
            ON own.session_id = p.id
    ) b
),
baseline AS MATERIALIZED (  -- columns, not CASE expressions re-evaluated for every metric row below
    SELECT c.*,
           CASE WHEN c.pre_n >= %(pre_min)s THEN 'pre_incident'
                WHEN c.hist_n >= %(hist_min)s THEN 'historical' ELSE 'insufficient_data' END AS method,
           CASE WHEN c.pre_n >= %(pre_min)s THEN c.pre_n WHEN c.hist_n >= %(hist_min)s THEN c.hist_n ELSE 0 END AS b_n,
           CASE WHEN c.pre_n >= %(pre_min)s THEN c.pre_s WHEN c.hist_n >= %(hist_min)s THEN c.hist_s ELSE 0 END AS b_s
    FROM chosen c
)
-- Per session: the affected minutes are the window's minutes minus those already claimed;
-- a minute without a metric row counts 0 actual GMV and 0 ad spend, so it adds S to lost_num
-- (max(0, S - n*0)) and nothing to wasted_num: one index range scan per session suffices. The
-- constant bounds repeat what every window lies within, so the planner prunes the metrics'
-- day partitions when it plans instead of keeping all of them for run time.
SELECT c.id, c.external_id, c.merchant_id, c.w_start, c.w_end, c.method, c.b_n, c.b_s,
       e.window_minutes - e.excluded AS affected, e.excluded, x.with_data, x.actual, x.ad_spend,
       x.lost_rows + (e.window_minutes - e.excluded - x.with_data) * c.b_s AS lost_num, x.wasted_num,
       c.pre_n, c.hist_n
FROM baseline c
LEFT JOIN claimed_ranges cr ON cr.session_id = c.id
CROSS JOIN LATERAL (
    SELECT (extract(epoch FROM c.w_end - c.w_start) / 60)::integer AS window_minutes,
           coalesce((
               SELECT sum(extract(epoch FROM upper(r) - lower(r)) / 60)
               FROM unnest(cr.ranges * tstzmultirange(tstzrange(c.w_start, c.w_end))) AS r
           ), 0)::integer AS excluded
) e
CROSS JOIN LATERAL (
    SELECT count(*) AS with_data, coalesce(sum(sm.gmv), 0) AS actual,
           coalesce(sum(sm.ad_spend), 0) AS ad_spend,
           coalesce(sum(greatest(0, c.b_s - c.b_n * sm.gmv)), 0) AS lost_rows,
           coalesce(sum(sm.ad_spend * greatest(0, c.b_s - c.b_n * sm.gmv)), 0) AS wasted_num
    FROM merchants_sessionminute sm
    WHERE sm.session_id = c.id AND sm.minute >= c.w_start AND sm.minute < c.w_end
      AND sm.minute >= %(start_minute)s AND sm.minute < %(end)s + interval '1 minute'
      AND NOT coalesce(cr.ranges @> sm.minute, false)
) x
ORDER BY c.merchant_id, c.w_start, c.id
"""
)


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
        "pre_min": w.pre_min,
        "hist_start": start_minute - timedelta(days=w.hist_days),
        "hist_min": w.hist_min,
        "only": w.session_ids,
    }


def session_aggregates(w: Window) -> list[SessionAggregate]:
    if connection.vendor != "postgresql":
        return session_aggregates_portable(w)
    with transaction.atomic(), connection.cursor() as cursor:
        # JIT compilation of this large query costs more than it saves at these sizes.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_SQL, _params(w))
        rows = cursor.fetchall()
    return [
        SessionAggregate(
            session_id=r[0],
            external_id=r[1],
            merchant_id=r[2],
            window_start=r[3],
            window_end=r[4],
            method=r[5],
            baseline_n=int(r[6]),
            baseline_s=Decimal(r[7]),
            affected=r[8],
            excluded=r[9],
            with_data=r[10],
            actual=Decimal(r[11]),
            ad_spend=Decimal(r[12]),
            lost_num=Decimal(r[13]),
            wasted_num=Decimal(r[14]),
            pre_n=int(r[15]),
            hist_n=int(r[16]),
        )
        for r in rows
    ]


# --- portable path (SQLite demo): the same rules with the ORM -------------------------------


def _hit_sessions(w: Window):
    qs = LiveSession.objects.filter(
        service_code=w.service_code, region_code__in=w.region_codes, started_at__lt=w.end
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=w.start))
    if w.session_ids is not None:
        qs = qs.filter(id__in=w.session_ids)
    return list(qs.order_by("merchant_id", "started_at", "id"))


def _claimed_ranges(w: Window, session_ids) -> dict[int, list[tuple[datetime, datetime]]]:
    from losses.models import LossAssessment, LossAssessmentLine

    mine = dict(
        LossAssessment.objects.filter(incident_id=w.incident_id, is_current=True).values_list(
            "merchant_id", "first_computed_at"
        )
    )
    lines = (
        LossAssessmentLine.objects.filter(
            session_id__in=session_ids,
            assessment__is_current=True,
            assessment__responsibility_percent__gt=0,
        )
        .exclude(assessment__incident_id=w.incident_id)
        .exclude(assessment__incident__state="voided")
        .values_list(
            "session_id",
            "window_start",
            "window_end",
            "assessment__merchant_id",
            "assessment__first_computed_at",
            "assessment__incident_id",
        )
    )
    claimed: dict[int, list] = {}
    for sid, ws, we, mid, first, iid in lines:
        if (first, iid) < (mine.get(mid, w.now), w.incident_id):
            claimed.setdefault(sid, []).append((ws, we))
    return claimed


def _incident_ranges(w: Window, hist_start, start_minute):
    from incidents.models import Incident

    ranges = []
    incidents = (
        Incident.objects.exclude(state="voided")
        .filter(started_at__lt=start_minute)
        .select_related("service")
        .prefetch_related("regions")
    )
    for inc in incidents:
        end = (inc.resolved_at or w.now) + w.tail
        if end > hist_start:
            for region in inc.regions.all():
                ranges.append((inc.service.code, region.code, floor_minute(inc.started_at), end))
    return ranges


def session_aggregates_portable(w: Window) -> list[SessionAggregate]:
    start_minute = floor_minute(w.start)
    pre_start = start_minute - w.pre_minutes * MINUTE
    hist_start = start_minute - timedelta(days=w.hist_days)
    sessions = _hit_sessions(w)
    if not sessions:
        return []
    ids = [s.id for s in sessions]
    claimed = _claimed_ranges(w, ids)
    pre: dict[int, list[Decimal]] = {}
    for sid, gmv in SessionMinute.objects.filter(
        session_id__in=ids, minute__gte=pre_start, minute__lt=start_minute
    ).values_list("session_id", "gmv"):
        pre.setdefault(sid, []).append(gmv)
    need_history = {s.merchant_id for s in sessions if len(pre.get(s.id, [])) < w.pre_min}
    hist_merchant: dict[int, list] = {}
    hist_session: dict[int, list] = {}
    if need_history:
        ranges = _incident_ranges(w, hist_start, start_minute)
        rows = SessionMinute.objects.filter(
            session__merchant_id__in=need_history, minute__gte=hist_start, minute__lt=start_minute
        ).values_list(
            "session_id", "session__merchant_id", "session__service_code", "session__region_code", "minute", "gmv"
        )
        for sid, mid, svc, reg, minute, gmv in rows:
            if any(svc == rs and reg == rr and a <= minute < b for rs, rr, a, b in ranges):
                continue
            m = hist_merchant.setdefault(mid, [0, ZERO])
            m[0] += 1
            m[1] += gmv
            s = hist_session.setdefault(sid, [0, ZERO])
            s[0] += 1
            s[1] += gmv
    result = []
    for s in sessions:
        w_start = floor_minute(max(s.started_at, w.start))
        last = min(s.ended_at or w.end, w.end) - timedelta(microseconds=1)
        w_end = floor_minute(last) + MINUTE
        metrics = {
            m: (gmv, ad)
            for m, gmv, ad in SessionMinute.objects.filter(
                session_id=s.id, minute__gte=w_start, minute__lt=w_end
            ).values_list("minute", "gmv", "ad_spend")
        }
        pre_vals = pre.get(s.id, [])
        hm = hist_merchant.get(s.merchant_id, [0, ZERO])
        hs = hist_session.get(s.id, [0, ZERO])
        hist_n, hist_s = hm[0] - hs[0], hm[1] - hs[1]
        if len(pre_vals) >= w.pre_min:
            method, bn, bs = "pre_incident", len(pre_vals), sum(pre_vals, ZERO)
        elif hist_n >= w.hist_min:
            method, bn, bs = "historical", hist_n, hist_s
        else:
            method, bn, bs = "insufficient_data", 0, ZERO
        agg = SessionAggregate(
            session_id=s.id,
            external_id=s.external_id,
            merchant_id=s.merchant_id,
            window_start=w_start,
            window_end=w_end,
            method=method,
            baseline_n=bn,
            baseline_s=bs,
            affected=0,
            excluded=0,
            with_data=0,
            actual=ZERO,
            ad_spend=ZERO,
            lost_num=ZERO,
            wasted_num=ZERO,
            pre_n=len(pre_vals),
            hist_n=hist_n,
        )
        minute = w_start
        while minute < w_end:
            if any(a <= minute < b for a, b in claimed.get(s.id, [])):
                agg.excluded += 1
            else:
                agg.affected += 1
                gmv, ad = metrics.get(minute, (ZERO, ZERO))
                if minute in metrics:
                    agg.with_data += 1
                agg.actual += gmv
                agg.ad_spend += ad
                gap = max(ZERO, bs - bn * gmv)
                agg.lost_num += gap
                agg.wasted_num += ad * gap
            minute += MINUTE
        result.append(agg)
    return result
