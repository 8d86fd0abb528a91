"""Staff pages: SLA overview, a dashboard per provider, and the detail of one evaluation."""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse

from accounts.decorators import staff_required
from incidents.models import Provider

from . import charts, selectors
from .models import CreditClaimState, ProviderCreditClaim, SLAEvaluation


@staff_required
def index(request):
    providers = (
        Provider.objects.filter(sla_contracts__isnull=False)
        .distinct()
        .annotate(contracts=Count("sla_contracts__code", distinct=True))
    )
    open_claims = (
        ProviderCreditClaim.objects.exclude(state__in=[CreditClaimState.CREDITED, CreditClaimState.REJECTED])
        .values("provider_id", "currency")
        .annotate(total=Sum("amount_claimed"))
    )
    due_by_provider = defaultdict(list)
    for row in open_claims:
        due_by_provider[row["provider_id"]].append((row["total"], row["currency"]))
    rows = [{"provider": p, "due": due_by_provider.get(p.pk, [])} for p in providers]
    return render(request, "sla/index.html", {"rows": rows, "warnings": selectors.warning_claims()})


@staff_required
def provider_dashboard(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    by_code, claims = selectors.provider_dashboard(provider)
    claims_by_key = {(c.contract_code, c.period): c for c in claims}
    contracts = []
    for code, evaluations in sorted(by_code.items()):
        latest = evaluations[-1].contract
        rows = [{"evaluation": e, "claim": claims_by_key.get((code, e.period))} for e in reversed(evaluations)]
        contracts.append(
            {
                "code": code,
                "contract": latest,
                "chart": charts.availability_chart(evaluations, latest.availability_target),
                "rows": rows,
                "breaches": sum(len(e.recovery_breaches) + len(e.response_breaches) for e in evaluations),
            }
        )
    totals = defaultdict(lambda: {"claimed": Decimal(0), "received": Decimal(0), "outstanding": Decimal(0)})
    for c in claims:
        t = totals[c.currency]
        t["claimed"] += c.amount_claimed
        t["received"] += c.amount_received or 0
        t["outstanding"] += c.outstanding
    return render(
        request,
        "sla/provider.html",
        {
            "provider": provider,
            "contracts": contracts,
            "claims": claims,
            "totals": dict(totals),
            "warnings": [c for c in claims if c.deadline_warning],
        },
    )


def _incident_url(pk):
    try:
        return reverse("incidents:detail", args=[pk])
    except NoReverseMatch:
        return ""


@staff_required
def evaluation_detail(request, pk):
    evaluation = get_object_or_404(SLAEvaluation.objects.select_related("contract__provider", "created_by"), pk=pk)
    details = evaluation.details or {}
    incidents = [dict(row, url=_incident_url(row["id"])) for row in details.get("incidents", [])]
    revisions = SLAEvaluation.objects.filter(contract_code=evaluation.contract_code, period=evaluation.period).order_by(
        "revision"
    )
    claim = ProviderCreditClaim.objects.filter(
        Q(contract_code=evaluation.contract_code) & Q(period=evaluation.period)
    ).first()
    return render(
        request,
        "sla/evaluation.html",
        {
            "evaluation": evaluation,
            "contract": evaluation.contract,
            "details": details,
            "incidents": incidents,
            "maintenance": details.get("maintenance", []),
            "dropped": details.get("dropped_stretches", []),
            "revisions": revisions,
            "claim": claim,
        },
    )
