"""Bulk import API for staff: POST a CSV file (multipart ``file``) or a ``text/csv`` body."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaffRole

from .services import KINDS, ImportRowError, import_csv


class _CsvBodyParser(FormParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"_body": stream.read() if stream else b""}


class ImportResultSerializer(serializers.Serializer):
    kind = serializers.CharField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class ImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    column = serializers.CharField()
    error = serializers.CharField()


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class BulkImportView(APIView):
    """Import merchants, sessions or metrics (``kind`` in the URL), all or nothing."""

    permission_classes = [IsStaffRole]
    parser_classes = [MultiPartParser, _CsvBodyParser]

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer, "text/csv": str},
        responses={200: ImportResultSerializer, 400: OpenApiResponse(ImportErrorSerializer)},
    )
    def post(self, request, kind: str):
        if kind not in KINDS:
            return Response({"error": f"unknown kind {kind!r}"}, status=status.HTTP_404_NOT_FOUND)
        upload = request.FILES.get("file")
        source = upload.read() if upload is not None else request.data.get("_body", b"")
        if not source:
            return Response({"line": 0, "column": "file", "error": "no CSV given"}, status=status.HTTP_400_BAD_REQUEST)
        try:
            result = import_csv(kind, source)
        except ImportRowError as exc:
            return Response(exc.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        return Response(result.as_dict())
