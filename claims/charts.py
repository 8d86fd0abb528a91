"""One session's actual GMV per minute against its baseline (loss model v1) or its expected curve
with the 90 % interval as a band (v2), with the outage shaded.

``svg_chart`` computes the geometry once; ``templates/claims/_chart_svg.html`` draws it, for
the claim pages (through ``templates/claims/_chart.html``, with the legend) and for the PDF
statements (``templates/documents/_statement_body.html``, in the merchant's time zone).
"""

from datetime import datetime
from decimal import Decimal

from django.utils import formats, timezone

from core.templatetags.money import format_money

WIDTH, HEIGHT = 640, 220
PHONE_WIDTH, PHONE_HEIGHT = 340, 220  # shown at about its own size on a 375 px screen
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28


def _t(value):
    return datetime.fromisoformat(value) if value else None


def svg_chart(series: dict, *, tz=None, width: int = WIDTH, height: int = HEIGHT) -> dict:
    """Coordinates for ``templates/claims/_chart_svg.html`` from ``losses.gmv_chart_series`` output.

    Time labels are in ``tz`` (default: the active time zone).
    """
    points = series.get("points") or []
    if not points:
        return {"empty": True, "session": series.get("session_id")}
    start, end = _t(points[0]["minute"]), _t(points[-1]["minute"])
    span = max((end - start).total_seconds(), 60)
    values = [Decimal(p["gmv"]) for p in points]
    baseline = Decimal(series["baseline"]) if series.get("baseline") else None
    expected = [(p, Decimal(p["expected"])) for p in points if p.get("expected") is not None]
    banded = [p for p in points if p.get("high") is not None]
    highs = [Decimal(p["high"]) for p in banded] + [v for _, v in expected]
    if expected:
        baseline = None  # loss model v2 draws the expected curve instead of a flat baseline
    top = max([*values, *highs, baseline or Decimal(0), Decimal(1)]) * Decimal("1.1")
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM

    def x(at):
        seconds = min(max((at - start).total_seconds(), 0), span)
        return round(LEFT + seconds / span * plot_w, 1)

    def y(value):
        return round(TOP + plot_h - float(value / top) * plot_h, 1)

    line = " ".join(f"{x(_t(p['minute']))},{y(Decimal(p['gmv']))}" for p in points)
    expected_line = " ".join(f"{x(_t(p['minute']))},{y(v)}" for p, v in expected)
    band_polygon = " ".join(
        [f"{x(_t(p['minute']))},{y(Decimal(p['high']))}" for p in banded]
        + [f"{x(_t(p['minute']))},{y(Decimal(p['low']))}" for p in reversed(banded)]
    )

    def band(interval):
        if not interval or not interval.get("start"):
            return None
        a = _t(interval["start"])
        b = _t(interval["end"]) if interval.get("end") else end
        if b < start or a > end:
            return None
        return {"x": x(a), "w": max(round(x(b) - x(a), 1), 1)}

    def local(at):
        return timezone.localtime(at, tz)

    return {
        "empty": False,
        "session": series.get("session_id"),
        "width": width,
        "height": height,
        "left": LEFT,
        "right": width - RIGHT,
        "top": TOP,
        "bottom": height - BOTTOM,
        "plot_height": plot_h,
        "line": line,
        "expected_line": expected_line or None,
        "band": band_polygon or None,
        "baseline_y": y(baseline) if baseline is not None else None,
        "baseline": baseline,
        "max_label": format_money(top, 0),
        "outage": band(series.get("outage")),
        "affected": band(series.get("affected")),
        "start_label": local(start).strftime("%H:%M"),
        "end_label": local(end).strftime("%H:%M"),
        "date_label": formats.date_format(local(start), "DATE_FORMAT"),
        "iso_date": local(start).strftime("%Y-%m-%d"),  # the PDFs print dates one way for every reader
        "method": series.get("baseline_method"),
        "currency": series.get("currency"),
        "points": len(points),
    }
