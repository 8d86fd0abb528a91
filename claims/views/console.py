"""The support staff console: queue, dashboard, claim detail with decision forms, bulk approval."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required, support_required
from claims import config, forms, permissions, selectors, services
from claims.errors import WorkflowError
from claims.models import Claim, ClaimState
from claims.views.common import (
    claim_or_404,
    download_document,
    form_errors,
    notifications_page,
    open_notification,
    run_action,
    upload_evidence,
)
from incidents.models import Incident
from merchants.models import Merchant

STAFF_ACTIONS = ("start_review", "request_info", "approve", "partially_approve", "reject", "confirm_approval", "settle")


@staff_required
def queue(request):
    now = timezone.now()
    f = {
        "state": request.GET.get("state") or None,
        "incident": request.GET.get("incident") or None,
        "merchant": request.GET.get("merchant") or None,
        "overdue": request.GET.get("overdue") == "1",
    }
    if f["incident"] and not str(f["incident"]).isdigit():
        f["incident"] = None
    qs = selectors.staff_queue(request.user, now=now, **f)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    incident = Incident.objects.filter(pk=f["incident"]).first() if f["incident"] else None
    bulk_form = None
    if incident is not None:
        bulk_form = forms.BulkApproveForm(
            initial={"incident": incident.pk, "threshold": config.get("BULK_APPROVAL_THRESHOLD")}
        )
    return render(
        request,
        "console/queue.html",
        {
            "page": page,
            "now": now,
            "filters": f,
            "states": ClaimState.choices,
            "merchants": Merchant.objects.only("code", "name"),
            "incidents": Incident.objects.filter(claims__isnull=False).distinct()[:100],
            "incident": incident,
            "bulk_form": bulk_form,
            "proposed_count": Claim.objects.filter(incident=incident, state=ClaimState.PROPOSED).count()
            if incident
            else 0,
            "overdue_count": Claim.objects.filter(due_at__lt=now).count(),
        },
    )


@staff_required
def dashboard(request):
    return render(request, "console/dashboard.html", {"stats": selectors.dashboard()})


@staff_required
def claim_detail(request, pk):
    claim = claim_or_404(request, pk)
    partial = forms.PartialDecisionForm(initial={"amount": claim.computed_amount}, auto_id="partial_%s")
    return render(
        request,
        "console/claim_detail.html",
        {
            "claim": claim,
            "now": timezone.now(),
            "actions": permissions.allowed_actions(request.user, claim),
            "breakdown": selectors.breakdown(claim),
            "sla_facts": selectors.incident_facts(claim.incident),
            # One auto_id per form: the forms share field names, their ids (and labels) must not clash.
            "info_form": forms.InfoRequestForm(auto_id="info_%s"),
            "approve_form": forms.DecisionForm(auto_id="approve_%s"),
            "reject_form": forms.DecisionForm(auto_id="reject_%s"),
            "partial_form": partial,
            "settle_form": forms.SettleForm(auto_id="settle_%s"),
            "upload_form": forms.UploadForm(auto_id="upload_%s"),
            "own_merchant": permissions.is_member(request.user, claim.merchant_id),
            "first_decider_of_dispute": claim.is_final_round
            and claim.first_decided_by_id == request.user.pk
            and claim.state in (ClaimState.DISPUTED, ClaimState.UNDER_REVIEW, ClaimState.INFO_REQUESTED),
            "second_reviewers": selectors.second_reviewers(claim) if claim.is_final_round else [],
        },
    )


@staff_required
@require_POST
def claim_action(request, pk, action):
    if action not in STAFF_ACTIONS:
        raise Http404
    claim = claim_or_404(request, pk)
    target = redirect("claims_console:claim", pk=claim.pk).url
    user = request.user
    form_classes = {
        "request_info": forms.InfoRequestForm,
        "approve": forms.DecisionForm,
        "reject": forms.DecisionForm,
        "partially_approve": forms.PartialDecisionForm,
        "settle": forms.SettleForm,
    }
    d = {}
    if action in form_classes:
        form = form_classes[action](request.POST)
        if not form.is_valid():
            messages.error(request, form_errors(form))
            return redirect(target)
        d = form.cleaned_data
    calls = {
        "start_review": (lambda: services.start_review(claim, user), _("You took the claim into review.")),
        "request_info": (
            lambda: services.request_info(claim, user, d["reason"], d["message"]),
            _("Information requested from the merchant."),
        ),
        "approve": (lambda: services.approve(claim, user, d["reason"], d["message"]), _("Claim approved.")),
        "reject": (lambda: services.reject(claim, user, d["reason"], d["message"]), _("Claim rejected.")),
        "partially_approve": (
            lambda: services.partially_approve(claim, user, d["amount"], d["reason"], d["message"]),
            _("Decision recorded (above the computed maximum it waits for a second approval)."),
        ),
        "confirm_approval": (lambda: services.confirm_approval(claim, user), _("Second approval given.")),
        "settle": (lambda: services.settle(claim, user, d["payment_reference"]), _("Claim marked as paid.")),
    }
    call, success = calls[action]
    return run_action(request, call, success, target)


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
        approved = services.bulk_approve(incident, request.user, d["threshold"], message=d.get("message") or "")
    except WorkflowError as exc:
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
    return upload_evidence(request, pk, "claims_console:claim")


@staff_required
def document(request, pk, doc_pk):
    return download_document(request, pk, doc_pk)


@staff_required
def notifications(request):
    return notifications_page(request, "claims_console:notifications", "claims_console:claim")


@staff_required
def notification(request, pk):
    return open_notification(request, pk, "claims_console:claim")
