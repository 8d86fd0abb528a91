"""REST API of telemetry: list windows (staff), post a batch or a CSV (support), the signed webhook."""

import io
import json

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.permissions import IsStaffRole
from incidents.services import WebhookRejected, verify_webhook

from . import selectors
from .models import TelemetryWindow
from .rules import error_rate_percent
from .services import TelemetryInputError, import_csv, ingest_windows

# Largest CSV the API takes (about 1.2 M rows); a larger file: ``manage.py import_telemetry``.
MAX_CSV_BYTES = 100 * 1024 * 1024

_RESULT = inline_serializer(
    "TelemetryIngestResult",
    {
        "rows": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
    },
)
_ERROR = inline_serializer(
    "TelemetryIngestError",
    {"line": serializers.IntegerField(), "column": serializers.CharField(), "error": serializers.CharField()},
)


class TelemetryWindowSerializer(serializers.ModelSerializer):
    service = serializers.CharField(source="service.code")
    region = serializers.CharField(source="region.code")
    window_end = serializers.DateTimeField(read_only=True)
    error_rate_percent = serializers.SerializerMethodField()

    class Meta:
        model = TelemetryWindow
        fields = [
            "id",
            "service",
            "region",
            "window_start",
            "window_end",
            "window_minutes",
            "requests",
            "failed_requests",
            "error_rate_percent",
            "stall_rate_percent",
            "join_p95_ms",
            "hd_share_percent",
            "peak_concurrent",
            "source",
        ]

    def get_error_rate_percent(self, obj) -> str | None:
        return str(error_rate_percent(obj.failed_requests, obj.requests))


class CsvParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read(MAX_CSV_BYTES + 1)


def _batch(payload):
    """A JSON batch is a list of rows or ``{"windows": [...]}``."""
    if isinstance(payload, dict) and isinstance(payload.get("windows"), list):
        return payload["windows"]
    if isinstance(payload, list):
        return payload
    raise TelemetryInputError(0, "windows", 'expected a JSON list of rows or {"windows": [...]}')


def _ingest(rows, source):
    try:
        result = ingest_windows(rows=_batch(rows), source=source)
    except TelemetryInputError as exc:
        return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
    return Response(result.as_dict())


class TelemetryWindowList(generics.ListAPIView):
    """Windows, filtered by ``service``, ``region`` (codes) and ``start``/``end`` (window start in
    ``[start, end)``); support and finance read. ``POST`` (support): a JSON batch of rows with the
    CSV columns, stored all or nothing (400 names the row as ``line`` and the ``column``)."""

    serializer_class = TelemetryWindowSerializer
    permission_classes = [IsStaffRole]
    parser_classes = [JSONParser]

    @extend_schema(
        parameters=[
            OpenApiParameter("service", str),
            OpenApiParameter("region", str),
            OpenApiParameter("start", str, description="ISO 8601"),
            OpenApiParameter("end", str, description="ISO 8601"),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        try:
            return selectors.filtered_windows(
                service=params.get("service"),
                region=params.get("region"),
                start=params.get("start"),
                end=params.get("end"),
            )
        except ValueError as exc:
            raise serializers.ValidationError({"detail": str(exc)}) from exc

    @extend_schema(
        request=inline_serializer("TelemetryBatch", {"windows": serializers.ListField()}),
        responses={200: _RESULT, 400: _ERROR},
    )
    def post(self, request):
        if not roles.is_support(request.user):
            return Response({"detail": "Only support staff may do this."}, status=status.HTTP_403_FORBIDDEN)
        return _ingest(request.data, f"api:{request.user.username}")


class TelemetryCsvImport(APIView):
    """``POST`` a CSV file (``text/csv`` body, header as for ``import_telemetry``); support only."""

    permission_classes = [IsStaffRole]
    parser_classes = [CsvParser]

    @extend_schema(request={"text/csv": str}, responses={200: _RESULT, 400: _ERROR, 413: _ERROR})
    def post(self, request):
        if not roles.is_support(request.user):
            return Response({"detail": "Only support staff may do this."}, status=status.HTTP_403_FORBIDDEN)
        body = request.data if isinstance(request.data, bytes) else b""
        if len(body) > MAX_CSV_BYTES:
            error = TelemetryInputError(0, "file", "larger than 100 MB; use manage.py import_telemetry")
            return Response(error.as_dict(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        try:
            result = import_csv(path_or_file=io.BytesIO(body), source=f"api:{request.user.username}")
        except TelemetryInputError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response(result.as_dict())


class TelemetryWebhook(APIView):
    """Monitoring pushes windows, signed like the incident webhook: headers ``X-Incident-Source``,
    ``X-Incident-Timestamp`` (Unix seconds, at most 5 minutes off) and ``X-Incident-Signature:
    sha256=<HMAC-SHA256 of "<timestamp>.<raw body>" with the source's secret>``. The body is a
    JSON batch (a list of rows or ``{"windows": [...]}``); stored all or nothing, idempotent by
    (service, region, window_start)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    @extend_schema(
        request=inline_serializer("TelemetryWebhookBatch", {"windows": serializers.ListField()}),
        responses={200: _RESULT, 400: _ERROR},
    )
    def post(self, request):
        body = request.body
        try:
            source = verify_webhook(
                source_name=request.headers.get("X-Incident-Source", ""),
                timestamp=request.headers.get("X-Incident-Timestamp", ""),
                signature=request.headers.get("X-Incident-Signature", ""),
                body=body,
            )
        except WebhookRejected as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_401_UNAUTHORIZED)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return Response({"detail": "the body is not valid JSON"}, status=status.HTTP_400_BAD_REQUEST)
        return _ingest(payload, f"webhook:{source.name}")
