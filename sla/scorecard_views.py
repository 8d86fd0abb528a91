"""Staff pages of the provider scorecard (HTML, CSV, PDF) and the telemetry windows behind it."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import DecimalField, ExpressionWrapper, F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.decorators import staff_required
from incidents.models import Provider, Service
from telemetry.detection import DetectionSettings
from telemetry.models import TelemetryWindow

from . import periods
from . import scorecard as sc


def _params(request):
    kind = request.GET.get("kind") or Provider.Kind.RTC
    if kind not in Provider.Kind.values:
        kind = Provider.Kind.RTC
    try:
        month = sc.parse_month(request.GET.get("month"))
    except ValueError:
        month = sc.parse_month(None)
    return kind, month


def _links(card: sc.Card) -> dict:
    month = f"{card.month:%Y-%m}"
    windows = reverse("sla:scorecard_windows") + "?" + urlencode({"provider": card.provider.pk, "month": month})
    incidents = (
        reverse("incidents:list")
        + "?"
        + urlencode(
            {
                "provider": card.provider.name,
                "since": card.window_start.isoformat(),
                "until": card.window_end.isoformat(),
            }
        )
    )
    return {
        "windows": windows,
        "down_windows": windows + "&down=1",
        "incidents": incidents,
        "provider": reverse("sla:provider", args=[card.provider.pk]),
        "evaluation": reverse("sla:evaluation", args=[card.evaluation.pk]) if card.evaluation else "",
        **{f"metric_{name}": windows + f"&metric={name}" for name in sc.QUALITY_FIELDS},
    }


def _context(request):
    kind, month = _params(request)
    cards = sc.scorecard(kind, month)
    for card in cards:
        card.links = _links(card)
        card.charts = {
            "availability": sc.line_chart([(f"{t['month']:%Y-%m}", t["availability"]) for t in card.trend]),
            "error_rate": sc.line_chart([(f"{t['month']:%Y-%m}", t["error_rate"]) for t in card.trend]),
            "join_p95_ms": sc.line_chart([(f"{t['month']:%Y-%m}", t["join_p95_ms"]) for t in card.trend]),
        }
    metrics = sorted({q["metric"] for card in cards for q in card.quality["targets"]})
    for card in cards:
        by_metric = {q["metric"]: q for q in card.quality["targets"]}
        card.target_cells = [by_metric.get(m) for m in metrics]
    query = urlencode({"kind": kind, "month": f"{month:%Y-%m}"})
    return {
        "cards": cards,
        "kind": kind,
        "kinds": Provider.Kind.choices,
        "month": month,
        "metrics": metrics,
        "methods": ["incidents", "error_rate_windows", "mean_error_rate"],
        "query": query,
    }


@staff_required
def scorecard(request):
    return render(request, "sla/scorecard.html", _context(request))


@staff_required
def scorecard_csv(request):
    context = _context(request)
    response = HttpResponse(sc.scorecard_csv(context["cards"]), content_type="text/csv; charset=utf-8")
    name = f"scorecard-{context['kind']}-{context['month']:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@staff_required
def scorecard_pdf(request):
    from weasyprint import HTML

    context = _context(request)
    html = render_to_string("sla/scorecard_pdf.html", context, request=request)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"scorecard-{context['kind']}-{context['month']:%Y-%m}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@staff_required
def windows(request):
    """The telemetry rows behind a scorecard figure or a detected incident."""
    rows = TelemetryWindow.objects.select_related("service", "region")
    title_parts = []
    provider = service = None
    if request.GET.get("provider"):
        provider = get_object_or_404(Provider, pk=request.GET["provider"])
        rows = rows.filter(service__provider=provider)
        title_parts.append(provider.name)
    if request.GET.get("service"):
        service = get_object_or_404(Service, code=request.GET["service"])
        rows = rows.filter(service=service)
        title_parts.append(service.code)
    tz = "Asia/Shanghai"
    start = end = None
    if request.GET.get("month"):
        try:
            month = periods.period_date(request.GET["month"])
        except ValueError:
            month = sc.parse_month(None)
        contract = sc._contract_for(provider, month) if provider else None
        tz = contract.timezone if contract else tz
        start, end = sc.month_bounds(month, tz)
        title_parts.append(f"{month:%Y-%m}")
    if request.GET.get("start"):
        start = parse_datetime(request.GET["start"]) or start
    if request.GET.get("end"):
        end = parse_datetime(request.GET["end"]) or end
    if start:
        rows = rows.filter(window_start__gte=start)
    if end:
        rows = rows.filter(window_start__lt=end)
    metric = request.GET.get("metric")
    if metric in sc.QUALITY_FIELDS:
        rows = rows.filter(**{f"{metric}__isnull": False})
    if request.GET.get("down"):
        threshold = DetectionSettings.from_settings().threshold_percent
        rows = rows.annotate(
            failed100=ExpressionWrapper(F("failed_requests") * 100, output_field=DecimalField()),
            limit=ExpressionWrapper(F("requests") * threshold, output_field=DecimalField()),
        ).filter(failed100__gt=F("limit"))
        title_parts.append(_("error rate above %(t)s %%") % {"t": threshold})
    rows = rows.order_by("window_start", "service__code", "region__code")
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sla/scorecard_windows.html",
        {"page": page, "title": " · ".join(title_parts), "query": query.urlencode(), "tz": tz, "span": (start, end)},
    )
