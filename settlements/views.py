"""Finance pages (finance role only) and the document download (owner merchants and staff)."""

from __future__ import annotations

import uuid
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import finance_required, staff_required
from merchants.models import Merchant

from . import exports, selectors
from .models import DocumentKind, SettlementBatch
from .services import ApplicationError
from .services import documents as document_services
from .services import settlements as st
from .tasks import issue_document

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The batch page pages its items (totals are over the whole batch) and its history (latest first).
ITEMS_PER_PAGE = 100
EVENTS_PER_PAGE = 50
# The "add selected" list of an open batch shows the oldest eligible claims and says how many there are.
ELIGIBLE_SHOWN = 200


def _date(value):
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _fail(request, exc: ApplicationError):
    messages.error(request, exc.message)


@finance_required
def home(request):
    if request.method == "POST":
        try:
            batch = st.create_batch(
                request.user,
                period_start=_date(request.POST.get("period_start")),
                period_end=_date(request.POST.get("period_end")),
                note=request.POST.get("note", ""),
            )
        except ApplicationError as exc:
            _fail(request, exc)
            return redirect("finance:home")
        messages.success(request, _("Batch %(ref)s created.") % {"ref": batch.reference})
        return redirect("finance:batch", pk=batch.pk)
    return render(
        request,
        "finance/home.html",
        {"batches": selectors.batches()[:100], "eligible": selectors.eligible_summary()},
    )


def _eligible(batch) -> dict:
    if batch.state != "open":
        return {"eligible": [], "eligible_total": 0}
    qs = st.eligible_claims(batch.period_start, batch.period_end)
    shown = list(qs[:ELIGIBLE_SHOWN])
    total = len(shown) if len(shown) < ELIGIBLE_SHOWN else qs.order_by().count()
    return {"eligible": shown, "eligible_total": total}


@finance_required
def batch_detail(request, pk):
    batch = get_object_or_404(SettlementBatch, pk=pk)
    return render(
        request,
        "finance/batch.html",
        {
            "batch": batch,
            "items": Paginator(selectors.batch_items(batch), ITEMS_PER_PAGE).get_page(request.GET.get("page")),
            "totals": selectors.batch_totals(batch),
            **_eligible(batch),
            "events": Paginator(selectors.batch_events(batch), EVENTS_PER_PAGE).get_page(request.GET.get("events")),
            "imports": batch.imports.select_related("imported_by"),
            "import_result": request.session.pop(f"import-{batch.pk}", None),
        },
    )


@finance_required
@require_POST
def batch_action(request, pk, action):
    batch = get_object_or_404(SettlementBatch, pk=pk)
    user, post = request.user, request.POST
    try:
        if action == "add":
            ids = post.getlist("claim")
            items = st.add_claims(batch, user, claim_ids=ids or None, message=post.get("message", ""))
            messages.success(request, _("%(n)s claims added.") % {"n": len(items)})
        elif action == "remove":
            st.remove_item(batch, user, post.get("item"), post.get("reason", ""))
            messages.success(request, _("Claim removed from the batch."))
        elif action == "lock":
            st.lock(batch, user, post.get("message", ""))
            messages.success(request, _("Batch locked."))
        elif action == "export":
            data = exports.csv_bytes(exports.batch_rows(batch))
            st.mark_exported(batch, user, exports.sha256(data), post.get("message", ""))
            messages.success(request, _("Batch exported: download the files below."))
        elif action == "import":
            upload = request.FILES.get("file")
            if upload is None:
                messages.error(request, _("Choose the payment result file."))
            else:
                result = st.import_payments(batch, user, st.read_upload(upload), upload.name)
                request.session[f"import-{batch.pk}"] = result.as_dict()
                if result.duplicate:
                    messages.info(request, _("This file was imported before; nothing changed."))
                elif result.ok:
                    messages.success(
                        request,
                        _("Payments imported: %(p)s paid, %(f)s failed, %(u)s unchanged.")
                        % {"p": result.paid, "f": result.failed, "u": result.unchanged},
                    )
                else:
                    messages.error(request, _("The file has errors; nothing was changed."))
        else:
            raise Http404
    except ApplicationError as exc:
        _fail(request, exc)
    page = post.get("page", "")
    url = reverse("finance:batch", args=[batch.pk])
    return redirect(f"{url}?page={page}#items" if page.isdigit() else url)


@finance_required
def batch_export(request, pk, fmt):
    batch = get_object_or_404(SettlementBatch, pk=pk)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    if batch.state in ("open", "locked"):
        messages.error(request, _("Export the batch first."))
        return redirect("finance:batch", pk=batch.pk)
    name = f"{batch.reference}"
    if fmt == "csv":
        response = StreamingHttpResponse(exports.iter_csv(exports.batch_rows(batch)), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    data = exports.xlsx_bytes(exports.batch_rows(batch), batch.reference)
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


@finance_required
def ledger(request):
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    fmt = request.GET.get("format")
    if start and end and start > end:
        messages.error(request, _("The range ends before it starts."))
    elif start and end and fmt in ("csv", "xlsx"):
        name = f"ledger-{start}-{end}"
        if fmt == "csv":
            response = StreamingHttpResponse(exports.iter_csv(exports.ledger_rows(start, end)), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        response = HttpResponse(exports.xlsx_bytes(exports.ledger_rows(start, end), "ledger"), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    return render(request, "finance/ledger.html", {"start": start, "end": end})


@finance_required
def recovery(request):
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    rows = selectors.recovery_report(start, end)
    return render(
        request,
        "finance/recovery.html",
        {"rows": rows, "totals": selectors.recovery_totals(rows), "start": start, "end": end},
    )


@finance_required
def documents(request):
    return render(
        request,
        "finance/documents.html",
        {
            "documents": selectors.visible_documents(request.user).order_by("-issued_at", "-id")[:200],
            "kinds": DocumentKind.choices,
            "merchants": Merchant.objects.order_by("name").only("pk", "code", "name"),
        },
    )


@staff_required
@require_POST
def issue(request):
    """Queue a document (a reason makes it a reissue, version n+1); the request is checked first."""
    post = request.POST
    kind = post.get("kind")
    if kind == DocumentKind.MONTHLY_STATEMENT:
        subject = {"merchant_id": post.get("merchant"), "period": post.get("period")}
    else:
        subject = {"claim_id": post.get("claim")}
    reason = post.get("reason", "").strip()
    try:
        latest = document_services.check_request(kind, by=request.user, reason=reason, **subject)
    except ApplicationError as exc:
        _fail(request, exc)
        latest = False
    if latest:
        messages.info(
            request,
            _("Version %(version)s of this document exists already; give a reason to issue a new version.")
            % {"version": latest.version},
        )
    elif latest is None:
        issue_document.delay(kind, user_id=request.user.pk, reason=reason, request_id=str(uuid.uuid4()), **subject)
        messages.success(request, _("The document is being generated."))
    nxt = post.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, require_https=request.is_secure()):
        return redirect(nxt)
    return redirect("finance:documents")


@login_required
def download(request, pk):
    """Merchants download their own merchants' documents; staff and finance any."""
    doc = selectors.visible_documents(request.user).filter(pk=pk).first()
    if doc is None:
        raise Http404
    return FileResponse(doc.file.open("rb"), as_attachment=True, filename=doc.filename, content_type="application/pdf")
