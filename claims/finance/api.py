"""REST API of the finance app (finance role; documents: owners and staff)."""

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsFinance, IsStaffRole

from . import exports, selectors
from .models import DocumentKind, IssuedDocument, SettlementBatch, SettlementItem
from .services import WorkflowError
from .services import settlements as st
from .tasks import issue_document
from .views import XLSX


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


class BatchSerializer(serializers.ModelSerializer):
    items = ItemSerializer(many=True, read_only=True)

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
            "items",
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


class ActionSerializer(serializers.Serializer):
    claim_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    item = serializers.IntegerField(required=False)
    message = serializers.CharField(required=False, allow_blank=True, default="")


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


class IssueSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    claim = serializers.IntegerField(required=False)
    merchant = serializers.IntegerField(required=False)
    period = serializers.DateField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


def _error(exc: WorkflowError):
    return Response({"detail": exc.message, "code": exc.code}, status=exc.status)


class BatchList(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(responses=BatchSerializer(many=True))
    def get(self, request):
        return Response(BatchSerializer(SettlementBatch.objects.prefetch_related("items")[:100], many=True).data)

    @extend_schema(request=BatchSerializer, responses=BatchSerializer)
    def post(self, request):
        s = BatchSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            batch = st.create_batch(
                request.user,
                **{k: s.validated_data.get(k) for k in ("period_start", "period_end")},
                note=s.validated_data.get("note", ""),
            )
        except WorkflowError as exc:
            return _error(exc)
        return Response(BatchSerializer(batch).data, status=status.HTTP_201_CREATED)


class BatchDetail(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(responses=BatchSerializer)
    def get(self, request, pk):
        return Response(BatchSerializer(get_object_or_404(SettlementBatch, pk=pk)).data)


class BatchAction(APIView):
    """POST add (claim_ids or all eligible) / remove (item, message=reason) / lock / export."""

    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(request=ActionSerializer, responses=BatchSerializer)
    def post(self, request, pk, action):
        batch = get_object_or_404(SettlementBatch, pk=pk)
        s = ActionSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        try:
            if action == "add":
                st.add_claims(batch, request.user, claim_ids=d.get("claim_ids"), message=d["message"])
            elif action == "remove":
                st.remove_item(batch, request.user, d.get("item"), d["message"])
            elif action == "lock":
                st.lock(batch, request.user, d["message"])
            elif action == "export":
                data = exports.csv_bytes(exports.batch_rows(batch))
                st.mark_exported(batch, request.user, exports.sha256(data), d["message"])
            else:
                raise Http404
        except WorkflowError as exc:
            return _error(exc)
        batch.refresh_from_db()
        return Response(BatchSerializer(batch).data)


class BatchExport(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    @extend_schema(responses={(200, "text/csv"): bytes})
    def get(self, request, pk, fmt):
        batch = get_object_or_404(SettlementBatch, pk=pk)
        if batch.state in ("open", "locked"):
            return Response({"detail": "Export the batch first."}, status=409)
        if fmt == "csv":
            return StreamingHttpResponse(exports.iter_csv(exports.batch_rows(batch)), content_type="text/csv")
        if fmt == "xlsx":
            return HttpResponse(exports.xlsx_bytes(exports.batch_rows(batch), batch.reference), content_type=XLSX)
        raise Http404


class PaymentImportView(APIView):
    permission_classes = [IsAuthenticated, IsFinance]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        }
    )
    def post(self, request, pk):
        batch = get_object_or_404(SettlementBatch, pk=pk)
        upload = request.FILES.get("file")
        if upload is None:
            return Response({"detail": "Send the payment file as 'file'."}, status=400)
        try:
            result = st.import_payments(batch, request.user, upload.read(), upload.name)
        except WorkflowError as exc:
            return _error(exc)
        return Response(result.as_dict(), status=200 if result.ok else 400)


class Ledger(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    def get(self, request):
        from .views import _date

        start, end = _date(request.query_params.get("start")), _date(request.query_params.get("end"))
        if not (start and end):
            return Response({"detail": "start and end (YYYY-MM-DD) are required."}, status=400)
        if request.query_params.get("format") == "xlsx":
            return HttpResponse(exports.xlsx_bytes(exports.ledger_rows(start, end), "ledger"), content_type=XLSX)
        return StreamingHttpResponse(exports.iter_csv(exports.ledger_rows(start, end)), content_type="text/csv")


class Recovery(APIView):
    permission_classes = [IsAuthenticated, IsFinance]

    def get(self, request):
        rows = selectors.recovery_report()
        for r in rows:
            r["month"] = r.pop("month_label")
        return Response({"rows": rows, "totals": selectors.recovery_totals(rows)})


class Documents(APIView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(responses=DocumentSerializer(many=True))
    def get(self, request):
        qs = selectors.visible_documents(request.user).order_by("-issued_at", "-id")
        if request.query_params.get("claim"):
            qs = qs.filter(claim_id=request.query_params["claim"])
        return Response(DocumentSerializer(qs[:200], many=True).data)

    @extend_schema(request=IssueSerializer, responses={202: None})
    def post(self, request):
        if not IsStaffRole().has_permission(request, self):
            return Response({"detail": IsStaffRole.message}, status=403)
        s = IssueSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        result = issue_document.delay(
            d["kind"],
            claim_id=d.get("claim"),
            merchant_id=d.get("merchant"),
            period=d["period"].isoformat() if d.get("period") else None,
            user_id=request.user.pk,
            reason=d["reason"],
        )
        return Response({"task_id": result.id}, status=202)


class DocumentDownload(APIView):
    def get(self, request, pk):
        doc = selectors.visible_documents(request.user).filter(pk=pk).first()
        if doc is None:
            raise Http404
        return FileResponse(
            doc.file.open("rb"), as_attachment=True, filename=doc.filename, content_type="application/pdf"
        )
