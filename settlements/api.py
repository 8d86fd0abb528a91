"""REST API of the finance app (finance role; documents: owners and staff)."""

from typing import Any

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsFinance, IsStaffRole
from core.actions import run_api_action
from core.api import ErrorSerializer
from core.parsers import JSONParser

from . import actions, exports, selectors
from .models import BatchState, IssuedDocument, SettlementBatch, SettlementItem
from .serializers import ActionSerializer, IssueSerializer
from .services import settlements as st
from .views import ITEMS_PER_PAGE, XLSX


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = SettlementItem
        fields = [
            "id",
            "claim",
            "merchant",
            "currency",
            "amount",
            "status",
            "payment_reference",
            "failure_reason",
            "paid_at",
        ]


def _number(**kwargs):
    # Money as decimal strings, like everywhere else in the API (never JSON floats).
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


class BatchTotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    count = serializers.IntegerField(help_text="Claims in the batch (removed ones left out).")
    amount = _number()
    paid = _number()
    failed = _number()


class BatchCountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField(source="n_pending")
    paid = serializers.IntegerField(source="n_paid")
    failed = serializers.IntegerField(source="n_failed")
    removed = serializers.IntegerField(source="n_removed")


class BatchSerializer(serializers.ModelSerializer):
    """A batch's summary: state, period, item counts per status and totals per currency (no items)."""

    counts = BatchCountsSerializer(source="*", read_only=True)
    totals = BatchTotalSerializer(many=True, read_only=True)

    class Meta:
        model = SettlementBatch
        fields = [
            "id",
            "reference",
            "state",
            "period_start",
            "period_end",
            "note",
            "created_at",
            "locked_at",
            "exported_at",
            "completed_at",
            "export_sha256",
            "counts",
            "totals",
        ]
        read_only_fields = [
            "reference",
            "state",
            "created_at",
            "locked_at",
            "exported_at",
            "completed_at",
            "export_sha256",
        ]


class ItemPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Items in the batch (all statuses).")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ItemSerializer(many=True)


class BatchDetailSerializer(BatchSerializer):
    items = ItemPageSerializer(source="items_page", read_only=True)

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "items"]


class ItemPagination(PageNumberPagination):
    """The detail's items, paged like the batch page (totals stay over the whole batch)."""

    page_size = ITEMS_PER_PAGE


def _batch_detail(request, pk, view) -> dict:
    """Summary of the batch and one page of its items (``?page=``): a constant number of queries."""
    batch = selectors.batch_summaries().filter(pk=pk).first()
    if batch is None:
        raise Http404
    selectors.attach_totals(batches=[batch])
    pager = ItemPagination()
    results: list[Any] = pager.paginate_queryset(selectors.batch_items(batch=batch), request, view=view) or []
    assert pager.page is not None  # paginate_queryset always pages: the page size is fixed
    batch.items_page = {
        "count": pager.page.paginator.count,
        "next": pager.get_next_link(),
        "previous": pager.get_previous_link(),
        "results": results,
    }
    return BatchDetailSerializer(batch).data


ITEMS_PAGE_PARAM = OpenApiParameter("page", int, description=f"Page of the items ({ITEMS_PER_PAGE} a page).")


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = IssuedDocument
        fields = [
            "id",
            "kind",
            "subject_key",
            "claim",
            "merchant",
            "period",
            "version",
            "template_version",
            "reason",
            "sha256",
            "size",
            "pages",
            "issued_at",
        ]


class IssueQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField(help_text="Celery task id of settlements.issue_document.")


class PaymentFileSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="Payment result CSV: claim_id, amount, currency, status, payment_reference.")


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    column = serializers.CharField()
    message = serializers.CharField()


class PaymentImportResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    rows = serializers.IntegerField()
    paid = serializers.IntegerField()
    failed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    duplicate = serializers.BooleanField(help_text="The same file was applied before; nothing changed.")
    batch_state = serializers.ChoiceField(choices=BatchState.choices)
    errors = RowErrorSerializer(many=True)  # type: ignore[assignment]  # a field, not Serializer.errors


class RecoveryIncidentSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="source:external_id")
    title = serializers.CharField()
    claims = serializers.IntegerField()
    paid = _number()


class RecoveryCreditClaimSerializer(serializers.Serializer):
    contract = serializers.CharField()
    state = serializers.CharField(help_text="sla.ProviderCreditClaim state")
    claimed = _number()
    received = _number(allow_null=True)
    due = _number()
    filed = _number()
    written_off = _number()
    still_due = _number()


class RecoveryRowSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, month of the incident start")
    provider = serializers.CharField()
    currency = serializers.CharField()
    incidents = RecoveryIncidentSerializer(many=True)
    paid = _number()
    credit_due = _number(help_text="every credit claim's amount, filed or not (sla.selectors.CreditStatus)")
    credit_filed = _number(help_text="of which filed with the provider")
    credit_received = _number()
    credit_written_off = _number(help_text="what closed claims did not bring in")
    credit_still_due = _number(help_text="due - received - written off")
    credit_claims = RecoveryCreditClaimSerializer(many=True)
    net_cost = _number(help_text="paid - credit_received")


class RecoveryTotalSerializer(serializers.Serializer):
    currency = serializers.CharField()
    paid = _number()
    credit_due = _number()
    credit_filed = _number()
    credit_received = _number()
    credit_written_off = _number()
    credit_still_due = _number()
    net_cost = _number()


class RecoverySerializer(serializers.Serializer):
    rows = RecoveryRowSerializer(many=True)
    totals = RecoveryTotalSerializer(many=True)


class BatchList(generics.ListCreateAPIView):
    """Batches, newest first, paged; each a summary (its items are on the detail)."""

    permission_classes = [IsAuthenticated, IsFinance]
    serializer_class = BatchSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.batch_summaries()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        selectors.attach_totals(batches=page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=BatchSerializer, responses={201: BatchDetailSerializer, 400: ErrorSerializer})
    def create(self, request, *args, **kwargs):
        s = BatchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        batch = st.create_batch(
            by=request.user,
            **{k: s.validated_data.get(k) for k in ("period_start", "period_end")},
            note=s.validated_data.get("note", ""),
        )
        return Response(_batch_detail(request, batch.pk, self), status=status.HTTP_201_CREATED)


class BatchDetail(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(parameters=[ITEMS_PAGE_PARAM], responses=BatchDetailSerializer)
    def get(self, request, pk):
        return Response(_batch_detail(request, pk, self))


class BatchAction(APIView):
    """POST add (claim_ids or all eligible) / remove (item, message=reason) / lock / export."""

    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(
        operation_id="finance_batches_action",
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=["add", "remove", "lock", "export"])],
        request=ActionSerializer,
        responses={200: BatchDetailSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
    )
    def post(self, request, pk, action):
        if action not in actions.BATCH:
            raise Http404
        batch = get_object_or_404(SettlementBatch, pk=pk)
        run_api_action(actions.BATCH, action, batch, request)
        return Response(_batch_detail(request, batch.pk, self))


class BatchExport(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
            409: ErrorSerializer,
        }
    )
    def get(self, request, pk, fmt):
        batch = get_object_or_404(SettlementBatch, pk=pk)
        if batch.state in ("open", "locked"):
            return Response({"detail": "Export the batch first."}, status=409)
        if fmt == "csv":
            return StreamingHttpResponse(exports.iter_csv(exports.batch_rows(batch)), content_type="text/csv")
        if fmt == "xlsx":
            return FileResponse(exports.xlsx_file(exports.batch_rows(batch), batch.reference), content_type=XLSX)
        raise Http404


class PaymentImportView(APIView):
    permission_classes = [IsAuthenticated, IsFinance]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": PaymentFileSerializer},
        responses={
            200: PaymentImportResultSerializer,
            400: OpenApiResponse(PaymentImportResultSerializer, description="Bad rows: nothing was applied."),
            409: ErrorSerializer,
        },
    )
    def post(self, request, pk):
        batch = get_object_or_404(SettlementBatch, pk=pk)
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"detail": "Send the payment file as 'file'."}, status=400)
        result = st.import_payments(
            batch=batch, by=request.user, data=st.read_upload(upload=upload), filename=upload.name
        )
        return Response(result.as_dict(), status=200 if result.ok else 400)


class _FileFormatParam(DefaultContentNegotiation):
    """``?format=xlsx`` chooses the file, not a DRF renderer (which would answer 404)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class Ledger(APIView):
    permission_classes = [IsAuthenticated, IsFinance]
    content_negotiation_class = _FileFormatParam

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="First day accepted (local)."),
            OpenApiParameter("end", OpenApiTypes.DATE, required=True, description="Last day accepted (local)."),
            OpenApiParameter("status", str, enum=list(exports.LEDGER_STATUSES), description="Payment status."),
            OpenApiParameter("merchant", str, description="Merchant code."),
            OpenApiParameter("currency", str, description="ISO currency, e.g. CNY."),
            OpenApiParameter("format", str, enum=["csv", "xlsx"], description="csv (default) or xlsx."),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
            400: ErrorSerializer,
        },
    )
    def get(self, request):
        from .forms import LedgerFilterForm

        form = LedgerFilterForm(request.query_params)
        if not form.is_valid():
            errors = form.errors.get_json_data()
            field = next(iter(errors))
            return Response(
                {
                    "detail": f"{field}: {errors[field][0]['message']}",
                    "code": "invalid",
                    "field": field,
                    "errors": {k: [e["message"] for e in v] for k, v in errors.items()},
                },
                status=400,
            )
        start, end, filters = form.cleaned_data["start"], form.cleaned_data["end"], form.filters()
        if request.query_params.get("format") == "xlsx":
            return FileResponse(
                exports.xlsx_file(exports.ledger_rows(start, end, **filters), "ledger"), content_type=XLSX
            )
        return StreamingHttpResponse(exports.ledger_csv(start, end, **filters), content_type="text/csv")


class Recovery(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="From the month of this day (incident start)."),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Until the month of this day."),
        ],
        responses={200: RecoverySerializer, 400: ErrorSerializer},
    )
    def get(self, request):
        from .views import _date

        raw = {k: request.query_params.get(k) for k in ("start", "end")}
        dates = {k: _date(v) for k, v in raw.items()}
        if any(raw[k] and dates[k] is None for k in raw):
            return Response({"detail": "start and end are dates (YYYY-MM-DD)."}, status=400)
        rows = selectors.recovery_report(start=dates["start"], end=dates["end"])
        for r in rows:
            r["month"] = r.pop("month_label")
        return Response(RecoverySerializer({"rows": rows, "totals": selectors.recovery_totals(rows=rows)}).data)


class Documents(APIView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(
        parameters=[OpenApiParameter("claim", int, description="Only the documents of this claim.")],
        responses=DocumentSerializer(many=True),
    )
    def get(self, request):
        qs = selectors.visible_documents(user=request.user).order_by("-issued_at", "-id")
        claim = request.query_params.get("claim")
        if claim:
            if not claim.isdigit():
                return Response({"detail": "claim must be a claim number."}, status=400)
            qs = qs.filter(claim_id=int(claim))
        return Response(DocumentSerializer(qs[:200], many=True).data)

    @extend_schema(
        request=IssueSerializer,
        responses={
            202: IssueQueuedSerializer,
            200: OpenApiResponse(DocumentSerializer, description="Exists already and no reason given: nothing new."),
            400: ErrorSerializer,
        },
    )
    def post(self, request):
        if not IsStaffRole().has_permission(request, self):
            return Response({"detail": IsStaffRole.message}, status=403)
        result: actions.IssueRequest = run_api_action(actions.DOCUMENTS, "issue", None, request)
        if result.existing is not None:
            return Response(DocumentSerializer(result.existing).data, status=200)
        return Response({"task_id": result.task_id}, status=202)


class DocumentDownload(APIView):
    @extend_schema(
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: OpenApiResponse(description="Not found")}
    )
    def get(self, request, pk):
        doc = selectors.visible_documents(user=request.user).filter(pk=pk).first()
        if doc is None:
            raise Http404
        return FileResponse(
            doc.file.open("rb"), as_attachment=True, filename=doc.filename, content_type="application/pdf"
        )
