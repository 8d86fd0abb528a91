"""Backtest of loss model v2 on the operator's own data (``manage.py backtest_losses``).

Every unaffected past session (no incident touched its service and region while it ran) gets
incident-shaped windows: ``outage`` minutes plus the recovery tail, starting 60, 90 and 120
minutes into the session (where it lasts long enough). For each window the v2 predictor runs
with the merchant's *other* unaffected sessions at the same minutes as its profile, exactly as
in an assessment:

* as a **placebo** (nothing happened: the truth is 0): pay-out as % of the window's GMV and
  whether the 90 % interval holds 0;
* with a **synthetic outage** injected into the real minutes (GMV × factor during the outage
  minutes; truth = what was taken away): bias of the total, mean absolute error, coverage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from django.db import connection
from django.utils import timezone

from .engine import exact
from .model_v2 import SessionSums, line
from .policy import active_policy

POSITIONS = (60, 90, 120)
FACTORS = (Decimal("0"), Decimal("0.7"))

SQL = """
WITH
incident_ranges AS (
    SELECT sv.code AS service_code, r.code AS region_code, i.started_at AS r_start,
           coalesce(i.resolved_at, %(now)s) + %(tail)s AS r_end
    FROM incidents_incident i
    JOIN incidents_service sv ON sv.id = i.service_id
    JOIN incidents_incident_regions ir ON ir.incident_id = i.id
    JOIN incidents_region r ON r.id = ir.region_id
    WHERE i.state <> 'voided' AND coalesce(i.resolved_at, %(now)s) + %(tail)s > %(since)s
),
s AS (
    SELECT o.id, o.external_id, o.merchant_id, date_trunc('minute', o.started_at, 'UTC') AS st, o.ended_at
    FROM merchants_livesession o JOIN merchants_merchant m ON m.id = o.merchant_id
    WHERE o.started_at >= %(since)s AND o.ended_at IS NOT NULL AND o.ended_at <= %(now)s
      AND (%(merchant)s::text IS NULL OR m.code = %(merchant)s::text)
      AND NOT EXISTS (
          SELECT 1 FROM incident_ranges ir
          WHERE ir.service_code = o.service_code AND ir.region_code = o.region_code
            AND ir.r_start < o.ended_at AND ir.r_end > o.started_at
      )
),
pos AS (
    SELECT s.*, k FROM s CROSS JOIN unnest(%(positions)s::integer[]) AS k
    WHERE s.ended_at >= s.st + (k + %(window)s) * interval '1 minute'
)
SELECT p.merchant_id, p.k, p.external_id, x.pre_n, x.a_p, x.a_w, x.a_o
FROM pos p
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE sm.minute < p.st + p.k * interval '1 minute') AS pre_n,
           coalesce(sum(sm.gmv) FILTER (WHERE sm.minute < p.st + p.k * interval '1 minute'), 0) AS a_p,
           coalesce(sum(sm.gmv) FILTER (WHERE sm.minute >= p.st + p.k * interval '1 minute'), 0) AS a_w,
           coalesce(sum(sm.gmv) FILTER (
               WHERE sm.minute >= p.st + p.k * interval '1 minute'
                 AND sm.minute < p.st + (p.k + %(outage)s) * interval '1 minute'
           ), 0) AS a_o
    FROM merchants_sessionminute sm
    WHERE sm.session_id = p.id AND sm.minute >= p.st + (p.k - %(pre)s) * interval '1 minute'
      AND sm.minute < p.st + (p.k + %(window)s) * interval '1 minute'
) x
ORDER BY p.merchant_id, p.k, p.id
"""


@dataclass
class Tally:
    windows: int = 0
    estimated: Fraction = Fraction(0)
    truth: Fraction = Fraction(0)
    abs_error: Fraction = Fraction(0)
    window_gmv: Fraction = Fraction(0)
    covered: int = 0
    with_interval: int = 0

    def as_dict(self, placebo: bool) -> dict:
        def ratio(a, b):
            return None if not b else str(exact(a / b).quantize(Decimal("0.0001")))

        result = {
            "windows": self.windows,
            "estimated_gmv": str(exact(self.estimated).quantize(Decimal("0.01"))),
            "true_gmv": str(exact(self.truth).quantize(Decimal("0.01"))),
            "interval_coverage": ratio(Fraction(self.covered), Fraction(self.with_interval)),
        }
        if placebo:
            result["payout_share_of_window_gmv"] = ratio(self.estimated, self.window_gmv)
        else:
            result["bias"] = ratio(self.estimated - self.truth, self.truth)
            result["mean_abs_error_share"] = ratio(self.abs_error, self.truth)
        return result


def backtest(*, merchant_code: str | None = None, days: int = 28, now: datetime | None = None) -> dict:
    """Run the active policy's v2 predictor on placebo windows and synthetic outages."""
    policy = active_policy()
    now = now or timezone.now()
    outage, tail = 20, policy.recovery_tail_minutes
    pre = policy.pre_incident_window_minutes
    params = {
        "now": now,
        "tail": timedelta(minutes=tail),
        "since": now - timedelta(days=days),
        "merchant": merchant_code,
        "positions": [k for k in POSITIONS if k >= pre] or [pre],
        "window": outage + tail,
        "outage": outage,
        "pre": pre,
    }
    with connection.cursor() as cursor:
        cursor.execute(SQL, params)
        rows = cursor.fetchall()
    groups: dict[tuple, list] = {}
    for merchant_id, k, external_id, pre_n, a_p, a_w, a_o in rows:
        row = (external_id, int(pre_n), Decimal(a_p), Decimal(a_w), Decimal(a_o))
        groups.setdefault((merchant_id, k), []).append(row)
    tallies = {"placebo": Tally(), **{f"outage_factor_{f}": Tally() for f in FACTORS}}
    for (merchant_id, _), sessions in groups.items():
        for i, (sid, pre_n, a_p, a_w, a_o) in enumerate(sessions):
            profile = [(o[0], o[2], o[3]) for j, o in enumerate(sessions) if j != i]
            for name, factor in [("placebo", None), *((f"outage_factor_{f}", f) for f in FACTORS)]:
                taken = Decimal(0) if factor is None else a_o * (1 - factor)
                sums = SessionSums(
                    session_id=0,
                    external_id=sid,
                    merchant_id=merchant_id,
                    session_start=now,
                    window_start=now,
                    window_end=now,
                    affected=outage + tail,
                    excluded=0,
                    with_data=outage + tail,
                    actual=a_w - taken,
                    ad_spend=Decimal(0),
                    pre_minutes=pre,
                    pre_n=pre_n,
                    pre_s=a_p,
                    profile=profile,
                )
                result = line(
                    sums,
                    margin=Decimal(0),
                    pre_min=policy.pre_incident_min_minutes,
                    profile_min=policy.profile_min_sessions,
                )
                if result.method != "profile_scaled":
                    continue
                t = tallies[name]
                truth = Fraction(taken)
                t.windows += 1
                t.estimated += result.paid
                t.truth += truth
                t.abs_error += abs(result.paid - truth)
                t.window_gmv += Fraction(sums.actual)
                if result.half_width is not None:
                    t.with_interval += 1
                    t.covered += result.low <= truth <= result.high
    return {
        "policy_version": policy.version,
        "days": days,
        "merchant": merchant_code,
        "merchants": len({m for m, _ in groups}),
        **{name: t.as_dict(name == "placebo") for name, t in tallies.items()},
    }
