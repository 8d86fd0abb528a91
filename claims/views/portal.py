"""The merchant portal: home, claims, claim detail with breakdown and chart, actions, notifications."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import merchant_required
from claims import forms, permissions, selectors, services
from claims.errors import WorkflowError
from claims.models import ClaimState
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
from merchants.selectors import merchants_for_user
from settlements.selectors import payment_status

MERCHANT_ACTIONS = ("submit", "answer", "accept", "dispute", "withdraw")


@merchant_required
def home(request):
    return render(request, "portal/home.html", selectors.home_for_merchant(request.user))


@merchant_required
def claim_list(request):
    state = request.GET.get("state") or None
    qs = selectors.claim_list(request.user, state=state).order_by("-created_at", "-id")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "portal/claim_list.html", {"page": page, "states": ClaimState.choices, "state": state or ""})


@merchant_required
def claim_detail(request, pk):
    claim = claim_or_404(request, pk)
    actions = permissions.allowed_actions(request.user, claim)
    context = {
        "claim": claim,
        "actions": actions,
        "breakdown": selectors.breakdown(claim),
        "info_request": selectors.open_info_request(claim),
        "deadline": services.filing_deadline(claim.incident),
        # One auto_id per form: several forms share field names, their ids must not clash.
        "answer_form": forms.AnswerForm(auto_id="answer_%s"),
        "dispute_form": forms.DisputeForm(auto_id="dispute_%s"),
        "message_form": forms.MessageForm(auto_id="message_%s"),
        "upload_form": forms.UploadForm(auto_id="upload_%s"),
        "now": timezone.now(),
        "payment": payment_status(claim),
        "can_upload": claim.state not in (ClaimState.SETTLED, ClaimState.WITHDRAWN, ClaimState.EXPIRED),
    }
    return render(request, "portal/claim_detail.html", context)


@merchant_required
@require_POST
def claim_action(request, pk, action):
    if action not in MERCHANT_ACTIONS:
        raise Http404
    claim = claim_or_404(request, pk)
    target = redirect("portal:claim", pk=claim.pk)
    if action == "answer":
        form = forms.AnswerForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, form_errors(form))
            return target
        d = form.cleaned_data
        return run_action(
            request,
            lambda: services.answer(claim, request.user, d["message"], d["documents"]),
            _("Your answer was sent; the claim is back under review."),
            target.url,
        )
    if action == "dispute":
        form = forms.DisputeForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, form_errors(form))
            return target
        d = form.cleaned_data
        return run_action(
            request,
            lambda: services.dispute(claim, request.user, d["reason"], d["statement"], d["documents"]),
            _("Your dispute was filed; another staff member will review it."),
            target.url,
        )
    form = forms.MessageForm(request.POST)
    message = form.cleaned_data["message"] if form.is_valid() else ""
    calls = {
        "submit": (lambda: services.submit(claim, request.user, message), _("Claim submitted.")),
        "accept": (lambda: services.accept(claim, request.user, message), _("You accepted the decision.")),
        "withdraw": (lambda: services.withdraw(claim, request.user, message), _("Claim withdrawn.")),
    }
    call, success = calls[action]
    return run_action(request, call, success, target.url)


@merchant_required
def file_claim(request, incident_pk):
    incident = get_object_or_404(Incident, pk=incident_pk)
    merchants = list(merchants_for_user(request.user))
    form = forms.FileClaimForm(request.POST or None, request.FILES or None, merchants=merchants)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        merchant = next(m for m in merchants if str(m.pk) == str(d["merchant"]))
        try:
            claim = services.file_claim(
                merchant=merchant,
                incident=incident,
                by=request.user,
                claimed_amount=d["claimed_amount"],
                statement=d["statement"],
                session_reference=d["session_reference"],
                documents=d["documents"],
            )
        except WorkflowError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Draft saved. Check it and submit it."))
            return redirect("portal:claim", pk=claim.pk)
    return render(
        request,
        "portal/file_claim.html",
        {"form": form, "incident": incident, "deadline": services.filing_deadline(incident)},
    )


@merchant_required
@require_POST
def upload(request, pk):
    return upload_evidence(request, pk, "portal:claim")


@merchant_required
def document(request, pk, doc_pk):
    return download_document(request, pk, doc_pk)


@merchant_required
def notifications(request):
    return notifications_page(request, "portal:notifications", "portal:claim")


@merchant_required
def notification(request, pk):
    return open_notification(request, pk, "portal:claim")
