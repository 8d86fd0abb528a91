"""The merchant portal: home, claims, claim detail with breakdown and chart, actions, notifications."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import merchant_required
from claims import actions, forms, permissions, selectors, services
from claims.models import ClaimState
from claims.views.common import (
    claim_or_404,
    download_document,
    notifications_page,
    open_notification,
)
from core.actions import empty_forms, form_error_list, run_page_action
from core.errors import ApplicationError
from incidents.models import Incident
from merchants import services as merchant_services
from merchants.selectors import is_merchant_admin, merchants_for_user, payout_history
from settlements.selectors import payment_status, with_payment_failed


@merchant_required
def home(request):
    return render(request, "portal/home.html", selectors.home_for_merchant(user=request.user))


@merchant_required
def claim_list(request):
    state = request.GET.get("state") or None
    qs = with_payment_failed(qs=selectors.claim_list(user=request.user, state=state)).order_by("-created_at", "-id")
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(request, "portal/claim_list.html", {"page": page, "states": ClaimState.choices, "state": state or ""})


@merchant_required
def claim_detail(request, pk):
    return _claim_page(request, claim_or_404(request, pk))


def _claim_page(request, claim, *, bound_forms=None, error=None, status=200, failed_action=""):
    """The claim page; after a refused action it is drawn again with the bound form and its errors."""
    page_forms = empty_forms(actions.PORTAL_PAGE)
    page_forms.update(bound_forms or {})
    payment = payment_status(claim=claim)
    claim.payment_failed = bool(payment and payment["code"] == "failed")
    # Payout details changed after the failure: the next batch pays the claim with them.
    changed = payout_history(merchant=claim.merchant, limit=1).first() if claim.payment_failed else None
    payout_updated_at = (
        changed.changed_at
        if changed and payment and (payment.get("when") is None or changed.changed_at > payment["when"])
        else None
    )
    payout_missing = (
        claim.state in (ClaimState.APPROVED, ClaimState.PARTIALLY_APPROVED, ClaimState.ACCEPTED)
        and not claim.merchant.has_payout_details
    )
    context = {
        "claim": claim,
        "actions": permissions.allowed_actions(request.user, claim),
        # A merchant-filed claim the engine found nothing for: its amount does not come from a
        # breakdown, so the page says the system found no loss instead of showing one at 0.00.
        "breakdown": selectors.breakdown(claim=claim) if claim.has_computed_amount else {"assessment": None},
        "info_request": selectors.open_info_request(claim=claim),
        "deadline": services.filing_deadline(incident=claim.incident),
        "now": timezone.now(),
        "payment": payment,
        "payout_updated_at": payout_updated_at,
        "payout_missing": payout_missing,
        "payout_admin": payout_missing and is_merchant_admin(user=request.user, merchant_id=claim.merchant_id),
        "can_upload": claim.state not in (ClaimState.SETTLED, ClaimState.WITHDRAWN, ClaimState.EXPIRED),
        "failed_action": failed_action,
        "error_summary": form_error_list(bound_forms or {}, error),
        **page_forms,
    }
    return render(request, "portal/claim_detail.html", context, status=status)


@merchant_required
@require_POST
def claim_action(request, pk, action):
    claim = claim_or_404(request, pk)
    return run_page_action(
        request,
        actions.PORTAL_PAGE,
        action,
        claim,
        render_page=lambda req, obj, **kw: _claim_page(req, claim_or_404(req, obj.pk), **kw),
        redirect_to=redirect("portal:claim", pk=claim.pk).url,
    )


FILE_ERRORS = {"bad_type", "markup", "too_large", "empty", "evidence_required"}


@merchant_required
def file_claim(request, incident_pk):
    incident = get_object_or_404(Incident, pk=incident_pk)
    merchants = list(merchants_for_user(user=request.user))
    form = forms.FileClaimForm(request.POST or None, request.FILES or None, merchants=merchants)
    # A refused file's reason, carried in the form: the browser does not send the file again, so a
    # second refusal still says which file was wrong and why.
    refused_file = request.POST.get("refused_file", "")[:500]
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
        except ApplicationError as exc:
            field = "documents" if exc.code in FILE_ERRORS else exc.field if exc.field in form.fields else None
            if exc.code in FILE_ERRORS and exc.code != "evidence_required":
                refused_file = exc.message
            form.add_error(field, exc.message)
        else:
            messages.success(request, _("Draft saved. Check it and submit it."))
            return redirect("portal:claim", pk=claim.pk)
    if refused_file and "documents" in form.errors and not request.FILES.getlist("documents"):
        form.errors["documents"] = form.error_class(
            [_("Choose the evidence again; the file you chose was refused: %(reason)s") % {"reason": refused_file}]
        )
    return render(
        request,
        "portal/file_claim.html",
        {
            "form": form,
            "incident": incident,
            "deadline": services.filing_deadline(incident=incident),
            "error_summary": form_error_list({"file": form}),
            "refused_file": refused_file,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@merchant_required
@require_POST
def upload(request, pk):
    return claim_action(request, pk, "upload")


@merchant_required
def document(request, pk, doc_pk):
    return download_document(request, pk, doc_pk)


@merchant_required
def notifications(request):
    return notifications_page(request, "portal:notifications", "portal:claim")


@merchant_required
def notification(request, pk):
    return open_notification(request, pk, "portal:claim")


@merchant_required
def payout_details(request):
    """Where each of the user's merchants is paid; its administrators change it here."""
    merchants = list(merchants_for_user(user=request.user).order_by("name", "pk"))
    bound, status = None, 200
    if request.method == "POST":
        merchant = next((m for m in merchants if str(m.pk) == request.POST.get("merchant")), None)
        if merchant is None:
            raise Http404
        form = forms.PayoutDetailsForm(request.POST, prefix=f"m{merchant.pk}")
        if form.is_valid():
            try:
                merchant_services.update_payout_details(merchant=merchant, by=request.user, **form.cleaned_data)
            except ApplicationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Payout details of %(merchant)s saved.") % {"merchant": merchant.name})
                return redirect("portal:payout")
        bound, status = (merchant.pk, form), 400
    sections = []
    for m in merchants:
        if bound and bound[0] == m.pk:
            form = bound[1]
        else:
            initial = {"account_name": m.payout_account_name, "bank": m.payout_bank}
            form = forms.PayoutDetailsForm(initial=initial, prefix=f"m{m.pk}")
        admin = is_merchant_admin(user=request.user, merchant_id=m.pk)
        history = [
            {
                "at": r.changed_at,
                "who": r.changed_by.get_username(),
                "field": m._meta.get_field(r.field).verbose_name,
                "old": r.old_value,
                "new": r.new_value,
            }
            for r in payout_history(merchant=m)
        ]
        sections.append({"merchant": m, "admin": admin, "form": form, "history": history})
    context = {"sections": sections, "error_summary": form_error_list({"payout": bound[1]} if bound else {})}
    return render(request, "portal/payout.html", context, status=status)
