"""Bulk import API for staff: POST a CSV file (multipart ``file``) or a ``text/csv`` body.

At most ``MAX_UPLOAD_BYTES`` (413 beyond) of CSV text (415 for anything else, judged by content).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaffRole
from core.csv import check_size, check_upload

from .services import KINDS, MAX_UPLOAD_BYTES, import_csv

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file


class _CsvBodyParser(FormParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        # One byte more than allowed is enough to tell that the body is too large.
        return {"_body": stream.read(MAX_UPLOAD_BYTES + 1) if stream else b""}


class ImportResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class ImportErrorSerializer(serializers.Serializer):
    """One refused row is the answer itself (line, column, error); several come as ``errors``."""

    line = serializers.IntegerField(required=False)
    column = serializers.CharField(required=False)
    error = serializers.CharField(required=False)
    detail = serializers.CharField(required=False)
    code = serializers.CharField(required=False)
    errors = serializers.ListField(child=serializers.DictField(), required=False)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class BulkImportView(APIView):
    """Import merchants, sessions or metrics (``kind`` in the URL), all or nothing."""

    permission_classes = [IsStaffRole]
    parser_classes = [MultiPartParser, _CsvBodyParser]

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=sorted(KINDS))],
        request={"multipart/form-data": ImportUploadSerializer, "text/csv": str},
        responses={
            200: ImportResultSerializer,
            400: OpenApiResponse(ImportErrorSerializer, description="a bad row: its line and column"),
            413: OpenApiResponse(ImportErrorSerializer, description="the file is too large"),
            415: OpenApiResponse(ImportErrorSerializer, description="the file is not CSV text"),
        },
    )
    def post(self, request, kind: str):
        if kind not in KINDS:
            return Response({"detail": f"unknown kind {kind!r}", "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
        # Refuse an announced oversize body before reading (and spooling) any of it.
        check_size(int(request.META.get("CONTENT_LENGTH") or 0) - MULTIPART_OVERHEAD, MAX_UPLOAD_BYTES)
        upload = request.FILES.get("file")
        source = upload if upload is not None else request.data.get("_body", b"")
        check_upload(source, max_bytes=MAX_UPLOAD_BYTES)
        result = import_csv(kind=kind, source=source)
        return Response(result.as_dict())
