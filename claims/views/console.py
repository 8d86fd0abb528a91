"""The support staff console: queue, dashboard, claim detail with decision forms, bulk approval."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required, support_required
from claims import actions, config, forms, permissions, selectors, services
from claims.models import Claim, ClaimState
from claims.views.common import (
    claim_or_404,
    download_document,
    form_errors,
    notifications_page,
    open_notification,
)
from core.actions import empty_forms, form_error_list, run_page_action
from core.errors import ApplicationError
from core.pages import invalid_filters
from incidents.models import Incident


@staff_required
def queue(request):
    now = timezone.now()
    form = forms.QueueFilterForm(request.GET)
    if not form.is_valid():
        raise invalid_filters(form)
    f = form.filters()
    qs = selectors.staff_queue(user=request.user, now=now, **f)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    incident = Incident.objects.filter(pk=f["incident"]).first() if f["incident"] else None
    bulk_form = forms.BulkApproveForm(
        initial={"incident": incident.pk if incident else None, "threshold": config.get("BULK_APPROVAL_THRESHOLD")}
    )
    return render(
        request,
        "console/queue.html",
        {
            "page": page,
            "now": now,
            "filters": f,
            "states": ClaimState.choices,
            "incidents": selectors.incidents_with_claims(),
            "bulk_incidents": selectors.incidents_with_proposals(),
            "incident": incident,
            "bulk_form": bulk_form,
            "proposed_count": Claim.objects.filter(incident=incident, state=ClaimState.PROPOSED).count()
            if incident
            else 0,
            "overdue_count": Claim.objects.filter(due_at__lt=now).count(),
        },
    )


@staff_required
def merchant_suggestions(request):
    """The merchant filter's autocomplete: at most 20 matches, never the whole list."""
    found = selectors.merchant_suggestions(query=request.GET.get("q", ""))
    return JsonResponse({"results": [{"code": m.code, "name": m.name} for m in found]})


@staff_required
def dashboard(request):
    return render(request, "console/dashboard.html", {"stats": selectors.dashboard()})


@staff_required
def claim_detail(request, pk):
    return _claim_page(request, claim_or_404(request, pk))


def _claim_page(request, claim, *, bound_forms=None, error=None, status=200, failed_action=""):
    """The claim page; after a refused action it is drawn again with the bound form and its errors."""
    page_forms = empty_forms(actions.CONSOLE_PAGE)
    page_forms["partially_approve_form"] = actions.STAFF["partially_approve"].page_form(
        "partially_approve", initial={"amount": claim.computed_amount}
    )
    page_forms.update(bound_forms or {})
    return render(
        request,
        "console/claim_detail.html",
        {
            "claim": claim,
            "now": timezone.now(),
            "actions": permissions.allowed_actions(request.user, claim),
            "breakdown": selectors.breakdown(claim=claim),
            "sla_facts": selectors.incident_facts(incident=claim.incident),
            "own_merchant": permissions.is_member(request.user, claim.merchant_id),
            "failed_action": failed_action,
            "error_summary": form_error_list(bound_forms or {}, error),
            **page_forms,
            "first_decider_of_dispute": claim.is_final_round
            and claim.first_decided_by_id == request.user.pk
            and claim.state in (ClaimState.DISPUTED, ClaimState.UNDER_REVIEW, ClaimState.INFO_REQUESTED),
            "second_reviewers": selectors.second_reviewers(claim=claim) if claim.is_final_round else [],
        },
        status=status,
    )


@staff_required
@require_POST
def claim_action(request, pk, action):
    claim = claim_or_404(request, pk)
    return run_page_action(
        request,
        actions.CONSOLE_PAGE,
        action,
        claim,
        render_page=lambda req, obj, **kw: _claim_page(req, claim_or_404(req, obj.pk), **kw),
        redirect_to=redirect("claims_console:claim", pk=claim.pk).url,
    )


@support_required
@require_POST
def bulk_approve(request):
    form = forms.BulkApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
        return redirect("claims_console:queue")
    d = form.cleaned_data
    incident = get_object_or_404(Incident, pk=d["incident"])
    target = f"{redirect('claims_console:queue').url}?incident={incident.pk}&state=approved"

    try:
        approved = services.bulk_approve(
            incident=incident, by=request.user, threshold=d["threshold"], message=d.get("message") or ""
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        n = len(approved)
        messages.success(
            request, ngettext("%(n)d proposed claim approved.", "%(n)d proposed claims approved.", n) % {"n": n}
        )
    return redirect(target)


@staff_required
@require_POST
def upload(request, pk):
    return claim_action(request, pk, "upload")


@staff_required
def document(request, pk, doc_pk):
    return download_document(request, pk, doc_pk)


@staff_required
def notifications(request):
    return notifications_page(request, "claims_console:notifications", "claims_console:claim")


@staff_required
def notification(request, pk):
    return open_notification(request, pk, "claims_console:claim")
