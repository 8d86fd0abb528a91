"""PDF documents: the data each one shows (built from the database into plain values), and
the WeasyPrint rendering with one shared ``FontConfiguration`` and a pre-subset CJK font
(``pdf_fonts``). The GMV chart is the claim
pages' one (``claims.charts.svg_chart`` drawn by ``templates/claims/_chart_svg.html``).

Rendering is deterministic: the context holds formatted strings only (times in the
merchant's time zone, money to the cent), the only time printed is the stored issue time,
and the PDF identifier derives from the document's subject and version.
"""

from __future__ import annotations

import hashlib
import zoneinfo
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

from claims.charts import svg_chart
from claims.models import Claim, ClaimDocument, ClaimEvent, ClaimState, ReasonCode, action_label
from incidents.models import IncidentUpdate
from incidents.models import state_label as incident_state_label
from losses.models import LossAssessment
from losses.selectors import CAUSE_SENTENCES, MARGIN_SOURCES, explanation, flag_sentences, gmv_chart_series
from merchants.models import Merchant
from sla.selectors import evaluations_for_incident

from . import pdf_fonts
from .models import DocumentKind, ItemStatus, SettlementItem

# Bump when a template changes what a document shows; stored with every issued version.
TEMPLATE_VERSIONS: dict[str, str] = {
    DocumentKind.CLAIM_STATEMENT: "statement-5",
    DocumentKind.EVIDENCE_PACK: "evidence-6",
    DocumentKind.MONTHLY_STATEMENT: "monthly-3",
}
TEMPLATES: dict[str, str] = {
    DocumentKind.CLAIM_STATEMENT: "documents/claim_statement.html",
    DocumentKind.EVIDENCE_PACK: "documents/evidence_pack.html",
    DocumentKind.MONTHLY_STATEMENT: "documents/monthly_statement.html",
}
CENT = Decimal("0.01")
_FONT_CONFIG = None


def money(value, currency="") -> str:
    if value is None:
        return "—"
    text = f"{Decimal(value).quantize(CENT, ROUND_HALF_UP):,.2f}"
    return f"{text} {currency}".strip()


def num(value, places=2) -> str:
    if value is None:
        return "—"
    q = Decimal(1).scaleb(-places)
    return f"{Decimal(value).quantize(q, ROUND_HALF_UP):,.{places}f}"


class Clock:
    def __init__(self, tzname: str):
        try:
            self.tz = zoneinfo.ZoneInfo(tzname)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.tz = zoneinfo.ZoneInfo("Asia/Shanghai")
        self.name = self.tz.key

    def dt(self, value) -> str:
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M") if value else "—"

    def hm(self, value) -> str:
        return value.astimezone(self.tz).strftime("%H:%M") if value else ""


# --- Contexts -----------------------------------------------------------------------------


def _label(choices, value):
    return dict(choices).get(value, value) if value else "—"


def _both(label) -> str:
    """A choice's label as the document prints it: Chinese / English, like the field labels."""
    if not label or label == "—":
        return "—"
    with translation.override("zh-hans"):
        zh = str(label)
    with translation.override("en"):
        en = str(label)
    return zh if zh == en else f"{zh} / {en}"


def _sla_facts(incident) -> list[dict]:
    """The current SLA evaluations of the incident's month (in each contract's time zone)."""
    return [
        {
            "contract": ev.contract_code,
            "period": ev.period_label,
            "availability": num(ev.availability_percent, 4),
            "target": num(ev.availability_target, 4),
            "met": ev.meets_target,
            "downtime": num(ev.downtime_minutes),
            "credit_percent": num(ev.credit_percent),
            "final": ev.is_final,
        }
        for ev in evaluations_for_incident(incident=incident)
    ]


def _print_labels(chart: dict, currency: str) -> dict:
    """The printed chart reads the same to every reader: ISO dates and a bilingual axis with its unit."""
    chart["date_label"] = chart["iso_date"]
    chart["unit_label"] = f"每分钟成交额（{currency}） / GMV per minute ({currency})"
    return chart


def _assessment(claim, clock, with_charts=True) -> dict | None:
    assessment = (
        LossAssessment.objects.filter(incident=claim.incident, merchant=claim.merchant, is_current=True)
        .select_related("policy")
        .first()
    )
    if assessment is None:
        return None
    cur = assessment.currency
    explain = explanation(assessment=assessment)
    lines = []
    for row in explain["lines"]:
        line = row["line"]
        chart = None
        if with_charts:
            chart = svg_chart(
                gmv_chart_series(line_or_session=line, incident=claim.incident), tz=clock.tz, width=660, height=190
            )
            chart = None if chart["empty"] else _print_labels(chart, cur)
        lines.append(
            {
                "session": line.session.external_id,
                "method": _label(line.BaselineMethod.choices, line.baseline_method),
                "window": f"{clock.dt(line.window_start)} – {clock.hm(line.window_end)}",
                "minutes": line.affected_minutes,
                "excluded": line.excluded_minutes,
                "with_data": line.minutes_with_data,
                "coverage": f"{num(line.data_coverage * 100, 1)}%",
                "baseline_per_minute": num(line.baseline_gmv_per_minute),
                "baseline_total": num(line.baseline_gmv_per_minute * line.affected_minutes),
                "actual": num(line.actual_gmv),
                "lost_gmv": num(line.lost_gmv),
                "lost_profit": num(line.lost_profit),
                "ad_spend": num(line.wasted_ad_spend),
                "ad_spend_total": num(line.ad_spend),
                # loss model v2: expected − actual = net shortfall (interval); counted
                "expected": num(row["expected"]),
                "net_shortfall": num(row["net_shortfall"]),
                "interval": f"{num(row['low'])} … {num(row['high'])}" if row["low"] is not None else "—",
                "within_noise": row["within_noise"],
                "profile": len(row["profile_sessions"]),
                "chart": chart,  # geometry for templates/claims/_chart_svg.html, labels in the merchant's zone
            }
        )
    before, after = assessment.compensation_before_pool, assessment.compensation
    scale = (after / before) if before else Decimal(1)
    flags = [_label(LossAssessment.Flag.choices, f) for f in assessment.flags]
    with translation.override("zh-hans"):
        flags_zh = flag_sentences(flags=assessment.flags)
        cause_zh = str(CAUSE_SENTENCES.get(assessment.cause, ""))
        margin_zh = str(MARGIN_SOURCES[explain["margin_source"]])
    with translation.override("en"):
        flags_en = flag_sentences(flags=assessment.flags)
        cause_en = str(CAUSE_SENTENCES.get(assessment.cause, ""))
        margin_en = str(MARGIN_SOURCES[explain["margin_source"]])
    return {
        "model": explain["model"],
        "flag_sentences": list(zip(flags_zh, flags_en, strict=True)),
        "cause_sentence": f"{cause_zh} {cause_en}",
        "margin_source": f"{margin_zh} {margin_en}",
        "counted": num(explain["counted"]),
        "loss": num(explain["loss"]),
        "after_responsibility": num(explain["after_responsibility"]),
        "capped": explain["capped"],
        "pool_factor": str(explain["pool_factor"]),
        "policy": f"v{assessment.policy.version}",
        "currency": cur,
        "cause": assessment.cause,
        "margin": f"{num(assessment.margin_rate * 100, 2)}%",
        "responsibility": f"{num(assessment.responsibility_percent)}%",
        "lost_gmv": num(assessment.lost_gmv),
        "lost_profit": num(assessment.lost_profit),
        "ad_spend": num(assessment.wasted_ad_spend),
        "claim_cap": money(assessment.policy.claim_cap, cur),
        "pool": money(assessment.policy.incident_pool, cur),
        "before_pool": money(before, cur),
        "compensation": money(after, cur),
        "pool_scale": f"{num(scale * 100, 2)}%",
        "flags": flags,
        "lines": lines,
    }


def claim_context(claim: Claim, *, evidence=False, with_charts=True) -> dict:
    claim = Claim.objects.select_related("merchant", "incident__service__provider", "decided_by").get(pk=claim.pk)
    clock = Clock(claim.merchant.timezone)
    incident = claim.incident
    cur = claim.currency
    minutes = int(incident.duration().total_seconds() // 60) if incident.resolved_at else None
    ctx = {
        "clock": clock.name,
        "merchant": {"name": claim.merchant.name, "code": claim.merchant.code},
        "claim": {
            "number": f"C-{claim.pk:06d}",
            "id": claim.pk,
            "state": _both(_label(ClaimState.choices, claim.state)),
            "state_code": claim.state,
            "currency": cur,
            "computed": money(claim.computed_amount, cur),
            "claimed": money(claim.claimed_amount, cur),
            "approved": money(claim.approved_amount, cur),
            "payable": money(claim.approved_amount or 0, cur),
            "decision_reason": _both(_label(ReasonCode.choices, claim.decision_reason)),
            "decision_message": claim.decision_message or "—",
            "decided_at": clock.dt(claim.decided_at),
            "payment_reference": claim.payment_reference or "—",
            "settled_at": clock.dt(claim.settled_at),
            "disputed": claim.dispute_count > 0,
            "dispute_statement": claim.dispute_statement,
        },
        "incident": {
            "key": incident.key,
            "reference": incident.external_id,
            "title": incident.title,
            "service": f"{incident.service.code} ({incident.service.name})",
            "provider": incident.service.provider.name,
            "impact": _both(_label(type(incident).impact.field.choices, incident.impact)),
            "cause": _both(_label(type(incident).cause.field.choices, incident.cause)),
            "start": clock.dt(incident.started_at),
            "end": clock.dt(incident.resolved_at),
            "minutes": minutes if minutes is not None else "—",
        },
        "sla": _sla_facts(incident),
        "loss": _assessment(claim, clock, with_charts=with_charts),
    }
    if evidence:
        ctx["timeline"] = [
            {
                "at": clock.dt(u.created_at),
                "kind": str(u.get_kind_display()),
                "change": f"{incident_state_label(u.from_state) or '·'} → {incident_state_label(u.to_state)}"
                if u.to_state
                else "",
                "message": u.message,
                "origin": u.origin,
            }
            for u in IncidentUpdate.objects.filter(incident=incident).order_by("created_at", "id")
        ]
        ctx["audit"] = [
            {
                "at": clock.dt(e.created_at),
                "who": (e.actor.get_username() if e.actor else "system") + f" ({e.actor_role})",
                # Words, not codes: "Information requested", not "info_requested".
                "action": str(e.get_kind_display())
                + (f": {action_label(e.action)}" if e.action and e.kind == ClaimEvent.Kind.TRANSITION else ""),
                "change": f"{e.from_state_label or '·'} → {e.to_state_label}" if e.to_state else "",
                "reason": str(_label(ReasonCode.choices, e.reason_code)) if e.reason_code else "",
                "message": e.message,
                "amount": money(e.amount, e.currency) if e.amount is not None else "",
            }
            for e in ClaimEvent.objects.filter(claim=claim).select_related("actor").order_by("created_at", "id")
        ]
        ctx["files"] = [
            {
                "name": d.original_name,
                "kind": d.kind,
                "size": f"{d.size:,}",
                "sha256": d.sha256,
                "at": clock.dt(d.uploaded_at),
                "by": d.uploaded_by.get_username(),
            }
            for d in ClaimDocument.objects.filter(claim=claim)
            .select_related("uploaded_by")
            .order_by("uploaded_at", "id")
        ]
    return ctx


def month_bounds(period: date, tz) -> tuple[datetime, datetime]:
    start = datetime.combine(period.replace(day=1), time.min, tzinfo=tz)
    nxt = (period.replace(day=1) + timedelta(days=32)).replace(day=1)
    return start, datetime.combine(nxt, time.min, tzinfo=tz)


# What a decision of the month amounts to on the statement: only what the merchant accepted (or
# was paid) is final; a decision still waiting for the merchant and a disputed one (the dispute
# reopens the amount) are shown on their own lines, never in the final total.
DECIDED_BUCKETS = ("decided", "awaiting", "disputed")


def _decided_bucket(claim) -> str:
    if claim.state in (ClaimState.ACCEPTED, ClaimState.SETTLED):
        return "decided"
    if claim.state in (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED):
        return "awaiting"
    if claim.state == ClaimState.REJECTED:
        return "decided"
    return "disputed"


def monthly_context(merchant: Merchant, period: date) -> dict:
    clock = Clock(merchant.timezone)
    lo, hi = month_bounds(period, clock.tz)
    from django.db.models import Q

    claims = list(
        Claim.objects.filter(merchant=merchant)
        .filter(Q(settled_at__gte=lo, settled_at__lt=hi) | Q(decided_at__gte=lo, decided_at__lt=hi))
        .select_related("incident")
        .order_by("pk")
    )
    rows: list[dict] = []
    decided: dict[str, dict[str, Decimal]] = {}
    paid: dict[str, Decimal] = {}
    for c in claims:
        rows.append(
            {
                "number": f"C-{c.pk:06d}",
                "incident": c.incident.key,
                "title": c.incident.title,
                "state": str(_label(ClaimState.choices, c.state)),
                "decided_at": clock.dt(c.decided_at),
                "reason": str(_label(ReasonCode.choices, c.decision_reason)),
                "approved": money(c.approved_amount, c.currency),
                "settled_at": clock.dt(c.settled_at),
            }
        )
        if c.decided_at and lo <= c.decided_at < hi:
            bucket = decided.setdefault(c.currency, {key: Decimal(0) for key in DECIDED_BUCKETS})
            bucket[_decided_bucket(c)] += c.approved_amount or 0
    # Payments are the claims settled in the month: through a batch, or directly by finance.
    batch_of = SettlementItem.objects.filter(claim=OuterRef("pk"), status=ItemStatus.PAID).values("batch__reference")
    payments = []
    for c in (
        Claim.objects.filter(merchant=merchant, state=ClaimState.SETTLED, settled_at__gte=lo, settled_at__lt=hi)
        .annotate(batch_reference=Subquery(batch_of[:1]))
        .order_by("settled_at", "pk")
    ):
        payments.append(
            {
                "at": clock.dt(c.settled_at),
                "batch": c.batch_reference or "—",
                "claim": f"C-{c.pk:06d}",
                "reference": c.payment_reference,
                "amount": money(c.approved_amount, c.currency),
            }
        )
        paid[c.currency] = paid.get(c.currency, Decimal(0)) + c.approved_amount
    currencies = sorted(set(decided) | set(paid))
    return {
        "clock": clock.name,
        "merchant": {"name": merchant.name, "code": merchant.code},
        "period": f"{period:%Y-%m}",
        "claims": rows,
        "payments": payments,
        "totals": [
            {
                "currency": cur,
                **{key: money(decided.get(cur, {}).get(key, 0), cur) for key in DECIDED_BUCKETS},
                "paid": money(paid.get(cur, 0), cur),
            }
            for cur in currencies
        ],
    }


# --- Rendering ----------------------------------------------------------------------------


def font_config():
    global _FONT_CONFIG
    if _FONT_CONFIG is None:
        from weasyprint.text.fonts import FontConfiguration

        _FONT_CONFIG = FontConfiguration()
    return _FONT_CONFIG


def render_html(kind: str, context: dict) -> str:
    return render_to_string(TEMPLATES[kind], context)


def render_pdf(kind: str, context: dict, identifier: str) -> tuple[bytes, int]:
    """Return the PDF bytes and its page count."""
    from weasyprint import HTML

    fonts = {key: mark_safe(value) for key, value in pdf_fonts.css(pdf_fonts.font_faces()).items()}  # noqa: S308 - ours
    html = render_html(kind, {**context, **fonts})
    document = HTML(string=html, base_url=".").render(font_config=font_config())
    pdf = document.write_pdf(pdf_identifier=hashlib.md5(identifier.encode()).hexdigest().encode())  # noqa: S324
    return pdf, len(document.pages)
