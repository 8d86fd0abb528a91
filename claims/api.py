"""REST API of the claim workflow: claims, one POST per transition (409 when the state refuses),
evidence, notifications and bulk approval."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsSupport
from claims.models import Claim, ClaimDocument, ClaimNotification, ClaimState
from claims.views.common import document_response
from core.actions import run_api_action
from core.api import ErrorSerializer
from core.parsers import JSONParser
from incidents.models import Incident

from . import actions, notify, permissions, selectors, services
from . import serializers as s

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid input (reason, amount, window, file)."),
    403: OpenApiResponse(ErrorSerializer, description="Wrong role, or not the claim's merchant."),
    404: OpenApiResponse(description="No such claim (or merchant, incident) visible to you."),
    409: OpenApiResponse(ErrorSerializer, description="The claim's state does not allow this action."),
}


def _transition(name):
    """One ``@action`` per row of the claim's action table (``claims.actions``)."""
    spec = actions.ALL[name]

    def view(self, request, pk=None):
        claim = run_api_action(actions.ALL, name, self.get_object(), request)
        claim = selectors.claim_detail(user=request.user, pk=claim.pk)
        return Response(
            s.claim_serializer_class(request.user, detail=True)(claim, context=self.get_serializer_context()).data
        )

    view.__name__ = name  # before @action: its method map refers to the function by name
    view = action(detail=True, methods=["post"], url_path=name.replace("_", "-"), url_name=name.replace("_", "-"))(view)
    return extend_schema(
        summary=spec.summary, request=spec.serializer, responses={200: s.ClaimDetailSerializer, **ERRORS}
    )(view)


class ClaimCursorPagination(CursorPagination):
    """Newest first, 50 a page, each page read from the ``(-created_at, -id)`` index after the
    previous page's last claim (``?cursor=`` from ``next``/``previous``): page 1000 costs what page
    1 does, where a page number made PostgreSQL walk past every claim before it. No ``count``:
    counting every visible claim is what a constant-cost page avoids."""

    ordering = ("-created_at", "-id")
    page_size = 50


@extend_schema(tags=["claims"])
class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Claims visible to the user: a merchant's own, all for staff."""

    lookup_value_regex = "[0-9]+"  # "abc" is a 404 from the router, never a query

    serializer_class = s.ClaimSerializer
    pagination_class = ClaimCursorPagination
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filterset_fields = ["state", "incident", "merchant", "origin"]

    def get_queryset(self):
        if self.action == "list":
            qs = selectors.claim_list(
                user=self.request.user, overdue=self.request.query_params.get("overdue") in ("1", "true")
            )
            return qs  # ordered by the paginator, in the index's order
        return selectors.visible_claims(user=self.request.user).select_related("merchant", "incident", "assignee")

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False):  # the schema documents the staff view
            return s.ClaimDetailSerializer if self.action == "retrieve" else s.ClaimSerializer
        return s.claim_serializer_class(self.request.user, detail=self.action == "retrieve")

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def retrieve(self, request, pk=None):
        try:
            claim = selectors.claim_detail(user=request.user, pk=pk)
        except (Claim.DoesNotExist, ValueError):
            raise Http404 from None
        return Response(
            s.claim_serializer_class(request.user, detail=True)(claim, context=self.get_serializer_context()).data
        )

    @extend_schema(
        parameters=[OpenApiParameter("overdue", bool, description="Only claims past their staff deadline.")],
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="File a claim (merchant) for a session the system did not detect",
        request={"multipart/form-data": s.FileClaimSerializer},
        responses={201: s.ClaimDetailSerializer, **ERRORS},
    )
    def create(self, request):
        ser = s.FileClaimSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        merchant = get_object_or_404(selectors.visible_merchants(user=request.user), pk=d["merchant"])
        incident = get_object_or_404(Incident, pk=d["incident"])
        claim = services.file_claim(
            merchant=merchant,
            incident=incident,
            by=request.user,
            claimed_amount=d["claimed_amount"],
            statement=d["statement"],
            session_reference=d["session_reference"],
            documents=d["documents"],
        )
        claim = selectors.claim_detail(user=request.user, pk=claim.pk)
        return Response(
            s.claim_serializer_class(request.user, detail=True)(claim, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    submit = _transition("submit")
    answer = _transition("answer")
    accept = _transition("accept")
    dispute = _transition("dispute")
    withdraw = _transition("withdraw")
    start_review = _transition("start_review")
    request_info = _transition("request_info")
    approve = _transition("approve")
    partially_approve = _transition("partially_approve")
    confirm_approval = _transition("confirm_approval")
    reject = _transition("reject")
    settle = _transition("settle")

    @extend_schema(summary="Evidence of the claim", request=None, responses={200: s.ClaimDocumentSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="documents", url_name="documents")
    def documents(self, request, pk=None):
        claim = self.get_object()
        docs = claim.documents.select_related("uploaded_by")
        return Response(s.ClaimDocumentSerializer(docs, many=True).data)

    @extend_schema(
        summary="Upload evidence (PDF, PNG, JPEG or CSV, 10 MB at most)",
        request={"multipart/form-data": s.UploadSerializer},
        responses={201: s.ClaimDocumentSerializer, **ERRORS},
    )
    @documents.mapping.post
    def upload(self, request, pk=None):
        claim = self.get_object()
        ser = s.UploadSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        doc = services.add_evidence(claim=claim, by=request.user, upload=ser.validated_data["file"])
        return Response(s.ClaimDocumentSerializer(doc).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Download one document", responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"], url_path=r"documents/(?P<doc_id>\d+)/download", url_name="document-download")
    def download(self, request, pk=None, doc_id=None):
        claim = self.get_object()
        doc = get_object_or_404(ClaimDocument, pk=doc_id, claim=claim)
        return document_response(doc)


@extend_schema(tags=["claims"])
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's claim notifications, newest first."""

    lookup_value_regex = "[0-9]+"  # "abc" is a 404 from the router, never a query

    serializer_class = s.NotificationSerializer
    filterset_fields = ["claim"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ClaimNotification.objects.none()
        qs = selectors.notifications_for(user=self.request.user)
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        return qs

    @extend_schema(request=None, responses={200: s.NotificationSerializer})
    @action(detail=True, methods=["post"], url_path="read")
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        notify.mark_read(request.user, [notification.pk])
        notification.refresh_from_db()
        return Response(s.NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: OpenApiResponse(description="{'marked': n}")})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": notify.mark_read(request.user)})


@extend_schema(tags=["claims"])
class BulkApproveView(APIView):
    """Approve, in one action, the proposed claims of one incident below a threshold (support)."""

    permission_classes = [IsSupport]

    @extend_schema(request=s.BulkApproveSerializer, responses={200: s.ClaimSerializer(many=True), **ERRORS})
    def post(self, request):
        ser = s.BulkApproveSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        incident = get_object_or_404(Incident, pk=d["incident"])
        claims = services.bulk_approve(
            incident=incident, by=request.user, threshold=d["threshold"], reason=d["reason"], message=d["message"]
        )
        qs = Claim.objects.filter(pk__in=[c.pk for c in claims]).select_related("merchant", "incident", "assignee")
        return Response(s.ClaimSerializer(qs, many=True, context={"request": request}).data)


__all__ = ["BulkApproveView", "ClaimViewSet", "NotificationViewSet", "ClaimState", "permissions"]
