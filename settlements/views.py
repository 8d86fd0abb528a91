"""Finance pages (finance role only) and the document download (owner merchants and staff)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import finance_required, staff_required
from core.actions import empty_forms, form_error_list, run_page_action
from core.errors import ApplicationError, InvalidInput

from . import actions, exports, selectors
from .forms import LedgerFilterForm
from .models import ItemStatus, SettlementBatch
from .services import settlements as st

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


@finance_required
def home(request):
    if request.method == "POST":
        try:
            batch = st.create_batch(
                by=request.user,
                period_start=_date(request.POST.get("period_start")),
                period_end=_date(request.POST.get("period_end")),
                note=request.POST.get("note", ""),
            )
        except ApplicationError as exc:
            return _home_page(request, error=exc, status=exc.status)
        messages.success(request, _("Batch %(ref)s created.") % {"ref": batch.reference})
        return redirect("finance:batch", pk=batch.pk)
    return _home_page(request)


def _home_page(request, *, error=None, status=200):
    return render(
        request,
        "finance/home.html",
        {
            "batches": selectors.batches()[:100],
            "eligible": selectors.eligible_summary(),
            "error_summary": form_error_list({}, error),
            "form_data": request.POST if error else {},
        },
        status=status,
    )


def _eligible(batch) -> dict:
    if batch.state != "open":
        return {"eligible": [], "eligible_total": 0}
    qs = st.eligible_claims(period_start=batch.period_start, period_end=batch.period_end)
    shown = list(qs[:ELIGIBLE_SHOWN])
    total = len(shown) if len(shown) < ELIGIBLE_SHOWN else qs.order_by().count()
    return {"eligible": shown, "eligible_total": total}


@finance_required
def batch_detail(request, pk):
    return _batch_page(request, get_object_or_404(SettlementBatch, pk=pk))


def _current_sha256(batch) -> str:
    """The hash of the CSV as it downloads now: after a payment import it is another file than the
    one exported (status and references filled in), so each version is shown with its own hash."""
    if not batch.export_sha256:
        return ""
    return exports.sha256(exports.csv_bytes(exports.batch_rows(batch)))


def _batch_page(request, batch, *, bound_forms=None, error=None, status=200, failed_action=""):
    """The batch page; after a refused action it is drawn again with the bound form and its errors."""
    return render(
        request,
        "finance/batch.html",
        {
            "batch": batch,
            "items": Paginator(selectors.batch_items(batch=batch), ITEMS_PER_PAGE).get_page(request.GET.get("page")),
            "totals": selectors.batch_totals(batch=batch),
            **_eligible(batch),
            "events": Paginator(selectors.batch_events(batch=batch), EVENTS_PER_PAGE).get_page(
                request.GET.get("events")
            ),
            "imports": batch.imports.select_related("imported_by"),
            # Lock is offered only with a claim to pay; cancelling says how many claims leave.
            "pending_count": batch.items.filter(status=ItemStatus.PENDING).count() if batch.state == "open" else 0,
            "no_payout": selectors.claims_without_payout(batch=batch) if batch.state == "open" else [],
            "current_sha256": _current_sha256(batch),
            "import_result": request.session.pop(f"import-{batch.pk}", None),
            **empty_forms(actions.BATCH),
            **(bound_forms or {}),
            "failed_action": failed_action,
            "error_summary": form_error_list(bound_forms or {}, error),
        },
        status=status,
    )


@finance_required
@require_POST
def batch_action(request, pk, action):
    batch = get_object_or_404(SettlementBatch, pk=pk)
    page = request.POST.get("page", "")
    url = reverse("finance:batch", args=[batch.pk])
    if action == "import":
        return _import_payments(request, batch, url)
    return run_page_action(
        request,
        actions.BATCH,
        action,
        batch,
        render_page=_batch_page,
        redirect_to=f"{url}?page={page}#items" if page.isdigit() else url,
    )


def _import_payments(request, batch, url):
    """The payment file: its result (rows paid, failed, bad lines) is shown on the batch page."""
    upload = request.FILES.get("file")
    if upload is None:
        error = InvalidInput(_("Choose the payment result file."), field="file")
        return _batch_page(request, batch, error=error, status=400, failed_action="import")
    try:
        result = st.import_payments(
            batch=batch, by=request.user, data=st.read_upload(upload=upload), filename=upload.name
        )
    except ApplicationError as exc:
        return _batch_page(request, batch, error=exc, status=exc.status, failed_action="import")
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
    return redirect(url)


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
    xlsx = exports.xlsx_file(exports.batch_rows(batch), batch.reference)
    return FileResponse(xlsx, content_type=XLSX, as_attachment=True, filename=f"{name}.xlsx")


LEDGER_PER_PAGE = 50


@finance_required
def ledger(request):
    """The ledger on screen (keyset pages of 50, totals over the whole selection) and, with
    ``format``, the same selection as CSV or XLSX."""
    data = request.GET.copy()
    if not data.get("start") and not data.get("end"):
        today = timezone.localdate()
        data.update({"start": today.replace(day=1).isoformat(), "end": today.isoformat()})
    form = LedgerFilterForm(data)
    fmt = request.GET.get("format")
    context: dict = {"form": form, "page": None, "totals": []}
    if not form.is_valid():
        context["error_summary"] = form_error_list({"form": form}, None)
        return render(request, "finance/ledger.html", context, status=400)
    start, end, filters = form.cleaned_data["start"], form.cleaned_data["end"], form.filters()
    if fmt in ("csv", "xlsx"):
        name = f"ledger-{start}-{end}"
        if fmt == "csv":
            response = StreamingHttpResponse(exports.ledger_csv(start, end, **filters), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        return FileResponse(
            exports.xlsx_file(exports.ledger_rows(start, end, **filters), "ledger"),
            content_type=XLSX,
            as_attachment=True,
            filename=f"{name}.xlsx",
        )
    after = request.GET.get("after", "")
    context["page"] = exports.ledger_page(
        start, end, after=int(after) if after.isdigit() else None, size=LEDGER_PER_PAGE, **filters
    )
    context["totals"] = exports.ledger_totals(start, end, **filters)
    query = data.copy()
    query.pop("after", None)
    query.pop("format", None)
    context["query"] = query.urlencode()
    context["paged"] = bool(after)
    return render(request, "finance/ledger.html", context)


@finance_required
def recovery(request):
    start, end = _date(request.GET.get("start")), _date(request.GET.get("end"))
    rows = selectors.recovery_report(start=start, end=end)
    totals = selectors.recovery_totals(rows=rows)
    if request.GET.get("format") == "csv":
        name = "recovery" + (f"-{start}" if start else "") + (f"-{end}" if end else "")
        response = StreamingHttpResponse(
            exports.iter_csv(exports.recovery_csv_rows(rows, totals)), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    return render(
        request,
        "finance/recovery.html",
        {"rows": rows, "totals": totals, "start": start, "end": end},
    )


def _documents_page(request, _obj=None, *, bound_forms=None, error=None, status=200, failed_action=""):
    """The documents page; after a refused request it is drawn again with the bound form and its errors."""
    return render(
        request,
        "finance/documents.html",
        {
            "documents": selectors.visible_documents(user=request.user).order_by("-issued_at", "-id")[:200],
            **empty_forms(actions.DOCUMENTS),
            **(bound_forms or {}),
            "failed_action": failed_action,
            "error_summary": form_error_list(bound_forms or {}, error),
        },
        status=status,
    )


@finance_required
def documents(request):
    return _documents_page(request)


@staff_required
@require_POST
def issue(request):
    """Queue a document (a reason makes it a reissue, version n+1); the request is checked first."""
    nxt = request.POST.get("next", "")
    if not (nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, require_https=request.is_secure())):
        nxt = reverse("finance:documents")
    return run_page_action(request, actions.DOCUMENTS, "issue", None, render_page=_documents_page, redirect_to=nxt)


@login_required
def download(request, pk):
    """Merchants download their own merchants' documents; staff and finance any."""
    doc = selectors.visible_documents(user=request.user).filter(pk=pk).first()
    if doc is None:
        raise Http404
    return FileResponse(doc.file.open("rb"), as_attachment=True, filename=doc.filename, content_type="application/pdf")
