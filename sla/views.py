"""Staff pages: SLA overview, a dashboard per provider, the detail of one evaluation and of
one credit claim. Support reads; finance moves credit claims (forms calling ``sla.services``)."""

from django.db.models import Q
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.decorators import finance_required, staff_required
from accounts.roles import is_finance
from core.actions import form_error_list, run_page_action
from incidents.models import Provider
from telemetry.selectors import prometheus_pull_status

from . import actions, charts, forms, selectors
from .models import ProviderCreditClaim, SLAEvaluation


@staff_required
def index(request):
    return render(
        request,
        "sla/index.html",
        {
            "rows": selectors.providers_overview(),
            "warnings": selectors.warning_claims(),
            "telemetry_pulls": prometheus_pull_status(),
        },
    )


@staff_required
def provider_dashboard(request, pk):
    provider = get_object_or_404(Provider, pk=pk)
    by_code, claims = selectors.provider_dashboard(provider=provider)
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
    _attach_actions(request, claims)
    totals = selectors.credit_totals(claims=ProviderCreditClaim.objects.filter(provider=provider)).get(None, [])
    return render(
        request,
        "sla/provider.html",
        {
            "provider": provider,
            "contracts": contracts,
            "claims": claims,
            "totals": totals,
            "warnings": [c for c in claims if c.deadline_warning],
            "telemetry_pulls": prometheus_pull_status(),
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
    if claim is not None:
        _attach_actions(request, [claim])
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
            "history": selectors.claim_history(claim=claim) if claim else [],
        },
    )


def _attach_actions(request, claims):
    """Finance gets the forms of the transitions each claim allows; support none."""
    finance = is_finance(request.user)
    for claim in claims:
        claim.actions = forms.action_forms(claim) if finance else []


@staff_required
def claim_detail(request, pk):
    return _claim_page(request, get_object_or_404(ProviderCreditClaim, pk=pk))


def _claim_page(request, claim, *, bound_forms=None, error=None, status=200, failed_action=""):
    """The credit claim's page; after a refused step it is drawn again with the bound form."""
    claim = get_object_or_404(ProviderCreditClaim.objects.select_related("provider", "evaluation"), pk=claim.pk)
    _attach_actions(request, [claim])
    bound = (bound_forms or {}).get(f"{failed_action}_form")
    if bound is not None:
        bound.action = failed_action
        claim.actions = [bound if f.action == failed_action else f for f in claim.actions] or [bound]
    return render(
        request,
        "sla/claim.html",
        {
            "claim": claim,
            "history": selectors.claim_history(claim=claim),
            "error_summary": form_error_list(bound_forms or {}, error),
        },
        status=status,
    )


@finance_required
@require_POST
def claim_action(request, pk, action):
    """Run one credit-claim step, then go back to the page the form was on."""
    claim = get_object_or_404(ProviderCreditClaim, pk=pk)
    return run_page_action(
        request,
        actions.CREDIT_CLAIM,
        action,
        claim,
        render_page=_claim_page,
        redirect_to=_next_url(request, claim),
    )


def _next_url(request, claim):
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("sla:claim", args=[claim.pk])
