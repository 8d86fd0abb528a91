"""REST API of the incident registry: read for any signed-in user, writes for support staff,
and the signed monitoring webhook."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import roles
from accounts.permissions import ReadOnlyOrSupport
from core.actions import run_api_action
from core.errors import InvalidInput
from core.parsers import loads as json_loads
from core.throttles import WebhookThrottle

from . import actions, selectors, services
from .filters import IncidentFilterSet
from .models import Incident, IncidentUpdate
from .records import IncidentRecordSerializer
from .serializers import TransitionSerializer


class IncidentUpdateSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = IncidentUpdate
        fields = ["kind", "from_state", "to_state", "message", "changes", "origin", "actor", "created_at"]


class IncidentSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="code", read_only=True)
    provider = serializers.CharField(source="service.provider.name", read_only=True)
    regions = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "source",
            "external_id",
            "title",
            "provider",
            "service",
            "regions",
            "impact",
            "cause",
            "state",
            "started_at",
            "detected_at",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
            "updated_at",
        ]


class IncidentDetailSerializer(IncidentSerializer):
    timeline = IncidentUpdateSerializer(source="updates", many=True, read_only=True)

    class Meta(IncidentSerializer.Meta):
        fields = IncidentSerializer.Meta.fields + ["timeline"]


# Merchants see when an incident started, changed state and ended; the timeline's messages,
# notes, edits, origins and staff usernames are the platform's internal record. The OpenAPI
# schema marks these fields optional (config.schema.staff_only_fields_optional).
STAFF_ONLY_FIELDS = {
    "IncidentDetail": ("source", "external_id"),
    "IncidentUpdate": ("message", "changes", "origin", "actor"),
}
MERCHANT_TIMELINE_KINDS = (IncidentUpdate.Kind.CREATED, IncidentUpdate.Kind.TRANSITION)


class MerchantIncidentUpdateSerializer(IncidentUpdateSerializer):
    class Meta(IncidentUpdateSerializer.Meta):
        fields = [f for f in IncidentUpdateSerializer.Meta.fields if f not in STAFF_ONLY_FIELDS["IncidentUpdate"]]


class MerchantIncidentDetailSerializer(IncidentDetailSerializer):
    timeline = MerchantIncidentUpdateSerializer(source="updates", many=True, read_only=True)

    class Meta(IncidentDetailSerializer.Meta):
        fields = [f for f in IncidentDetailSerializer.Meta.fields if f not in STAFF_ONLY_FIELDS["IncidentDetail"]]


class IncidentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Incidents with their timeline. Creating (or re-posting) a record upserts it by
    (source, external_id); only support staff may write."""

    lookup_value_regex = "[0-9]+"  # "abc" is a 404 from the router, never a query

    permission_classes = [ReadOnlyOrSupport]
    filterset_class = IncidentFilterSet

    def get_queryset(self):
        if self.action == "retrieve":
            updates = IncidentUpdate.objects.select_related("actor")
            if not self._staff():
                updates = updates.filter(kind__in=MERCHANT_TIMELINE_KINDS)
            return Incident.objects.select_related("service__provider").prefetch_related(
                "regions", Prefetch("updates", queryset=updates)
            )
        return selectors.incident_list()

    def _staff(self) -> bool:
        return getattr(self, "swagger_fake_view", False) or roles.is_staff_role(self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return IncidentDetailSerializer if self._staff() else MerchantIncidentDetailSerializer
        if self.action == "create":
            return IncidentRecordSerializer
        return IncidentSerializer

    @extend_schema(request=IncidentRecordSerializer, responses={201: IncidentSerializer, 200: IncidentSerializer})
    def create(self, request, *args, **kwargs):
        serializer = IncidentRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.upsert_incident(record=serializer.to_record(), origin="api", actor=request.user)
        code = status.HTTP_201_CREATED if result.outcome == "created" else status.HTTP_200_OK
        return Response({"outcome": result.outcome, **IncidentSerializer(result.incident).data}, status=code)

    @extend_schema(request=TransitionSerializer, responses={200: IncidentSerializer})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Acknowledge, mitigate, resolve or void the incident, with a message for the timeline."""
        incident = run_api_action(actions.INCIDENT, "transition", get_object_or_404(Incident, pk=pk), request)
        return Response(IncidentSerializer(incident).data)


class IncidentWebhookView(APIView):
    """Monitoring webhook. Headers: ``X-Incident-Source`` (the source name),
    ``X-Incident-Timestamp`` (Unix seconds, at most 5 minutes off) and
    ``X-Incident-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the
    source's secret>``. The body is one incident record; the source is taken from the
    header. Re-delivery is harmless; an update older than the last applied is ignored."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [WebhookThrottle]

    @extend_schema(
        request=IncidentRecordSerializer,
        responses={
            200: inline_serializer(
                "WebhookResult", {"outcome": serializers.CharField(), "id": serializers.IntegerField()}
            ),
            201: inline_serializer(
                "WebhookCreated", {"outcome": serializers.CharField(), "id": serializers.IntegerField()}
            ),
        },
    )
    def post(self, request):
        body = request.body
        source = services.verify_webhook(
            source_name=request.headers.get("X-Incident-Source", ""),
            timestamp=request.headers.get("X-Incident-Timestamp", ""),
            signature=request.headers.get("X-Incident-Signature", ""),
            body=body,
        )
        try:
            payload = json_loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise InvalidInput("the body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise InvalidInput("the body must be a JSON object")
        payload["source"] = source.name
        serializer = IncidentRecordSerializer(data=payload)
        if not serializer.is_valid():
            return Response({"errors": serializer.errors}, status=status.HTTP_400_BAD_REQUEST)
        result = services.upsert_incident(record=serializer.to_record(), origin=f"webhook:{source.name}")
        code = status.HTTP_201_CREATED if result.outcome == "created" else status.HTTP_200_OK
        return Response(
            {"outcome": result.outcome, "id": result.incident.pk, "state": result.incident.state}, status=code
        )
