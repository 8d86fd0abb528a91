"""Alert receivers for Alertmanager and Grafana (one URL per configured source), and the
staff API for their label mappings and for the alerts a mapping could not place."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from accounts import roles
from core import parsers
from core import services as setting_services
from core.api import ErrorSerializer
from core.errors import PayloadTooLarge

from . import alert_services, selectors
from .alerting import NotificationSerializer
from .models import AlertSource, ReceivedAlert


class StaffReadSupportWrite(BasePermission):
    """Support and finance staff read; support staff change."""

    message = "Only support staff may change this."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return roles.is_staff_role(request.user)
        return roles.is_support(request.user)


MAX_NOTIFICATION_BYTES = 32 * 1024 * 1024


def _read_body(request) -> bytes:
    """The raw body, up to our own limit rather than Django's form-sized one: a large
    Alertmanager group must not be refused (Alertmanager does not retry a 4xx)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_NOTIFICATION_BYTES:
        raise PayloadTooLarge(f"a notification may have at most {MAX_NOTIFICATION_BYTES // 2**20} MB")
    body = request._request.read(MAX_NOTIFICATION_BYTES + 1)
    if len(body) > MAX_NOTIFICATION_BYTES:
        raise PayloadTooLarge(f"a notification may have at most {MAX_NOTIFICATION_BYTES // 2**20} MB")
    return body


class AlertReceiverView(APIView):
    """Alertmanager (webhook version 4) or Grafana alerting notification for the source
    named in the URL. Authenticate as the source is configured: ``Authorization: Bearer
    <token>`` or basic auth (Alertmanager's ``http_config``), and for Grafana with an HMAC
    secret its signature header. Every alert is kept; re-delivery changes nothing."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    # Not throttled: Alertmanager does not retry a 4xx, so a throttled notification would be lost.
    throttle_classes: list = []

    @extend_schema(
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$")],
        request=NotificationSerializer,
        responses={
            200: inline_serializer(
                "AlertNotificationResult",
                {
                    "received": serializers.IntegerField(),
                    "outcomes": serializers.DictField(child=serializers.IntegerField()),
                    "alerts": serializers.ListField(child=serializers.DictField()),
                },
            ),
            401: OpenApiResponse(ErrorSerializer, description="Unknown source, wrong credentials or signature"),
            413: OpenApiResponse(ErrorSerializer, description="Larger than 32 MB"),
        },
    )
    def post(self, request, name):
        try:
            body = _read_body(request)
        except PayloadTooLarge as exc:
            return Response(exc.as_dict(), status=exc.status)
        try:
            source = alert_services.authenticate_receiver(name=name, headers=request.headers, body=body)
        except alert_services.ReceiverRejected as exc:
            response = Response(exc.as_dict(), status=exc.status)
            response["WWW-Authenticate"] = 'Bearer realm="alerts", Basic realm="alerts"'
            return response
        try:
            payload = parsers.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            return Response({"detail": f"the body is not valid JSON: {exc}"}, status=status.HTTP_400_BAD_REQUEST)
        if not isinstance(payload, dict):
            return Response({"detail": "the body must be a JSON object"}, status=status.HTTP_400_BAD_REQUEST)
        serializer = NotificationSerializer(data=payload)
        if not serializer.is_valid():
            return Response({"errors": serializer.errors}, status=status.HTTP_400_BAD_REQUEST)
        outcomes = alert_services.receive_notification(source=source, notification=serializer.to_notification())
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
        return Response(
            {"received": len(outcomes), "outcomes": counts, "alerts": [vars(o) for o in outcomes]},
            status=status.HTTP_200_OK,
        )


class AlertSourceSerializer(serializers.ModelSerializer):
    receiver_url = serializers.SerializerMethodField()

    class Meta:
        model = AlertSource
        fields = [
            "id",
            "name",
            "kind",
            "is_active",
            "receiver_url",
            "auth",
            "username",
            "token",
            "hmac_secret",
            "hmac_header",
            "timestamp_header",
            "service_label",
            "service_values",
            "region_label",
            "region_values",
            "impact_label",
            "impact_values",
            "cause_label",
            "default_cause",
            "truncated_alerts",
            "last_received_at",
        ]
        read_only_fields = ["truncated_alerts", "last_received_at"]
        extra_kwargs = {"token": {"write_only": True}, "hmac_secret": {"write_only": True}}

    def get_receiver_url(self, obj) -> str:
        return reverse("incidents_api:alert-receiver", args=[obj.name], request=self.context.get("request"))

    def validate(self, attrs):
        instance = AlertSource(**{**self._current(), **attrs})
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs

    def _current(self) -> dict:
        if self.instance is None:
            return {}
        return {f.name: getattr(self.instance, f.name) for f in AlertSource._meta.concrete_fields}


class AlertSourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Alertmanager and Grafana sources: credentials (write-only) and the label mapping
    (which labels name the service, regions, impact and cause)."""

    permission_classes = [StaffReadSupportWrite]
    serializer_class = AlertSourceSerializer
    queryset = AlertSource.objects.all()

    def perform_update(self, serializer):
        fields = AlertSource.HISTORY_FIELDS
        before = setting_services.snapshot(obj=serializer.instance, fields=fields)
        source = serializer.save()
        setting_services.record_setting_changes(
            obj=source, by=self.request.user, before=before, fields=fields, secret_fields=AlertSource.SECRET_FIELDS
        )


class ReceivedAlertSerializer(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)  # type: ignore[assignment]  # a field

    class Meta:
        model = ReceivedAlert
        fields = [
            "id",
            "source",
            "fingerprint",
            "status",
            "starts_at",
            "ends_at",
            "title",
            "labels",
            "annotations",
            "incident",
            "problem",
            "notifications",
            "first_received_at",
            "last_received_at",
        ]


class RemapSerializer(serializers.Serializer):
    source = serializers.SlugField(required=False, help_text="Only this source's alerts; all when left out.")  # type: ignore[assignment]  # a field, not Field.source

    def validate_source(self, value):
        source = AlertSource.objects.filter(name=value).first()
        if source is None:
            raise serializers.ValidationError("no alert source of that name")
        return source


@extend_schema(
    parameters=[
        OpenApiParameter("unmapped", bool, description="only alerts no mapping could place"),
        OpenApiParameter("source", str, description="filter by source name"),
    ]
)
class ReceivedAlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every alert received, mapped or not; unmapped ones say why."""

    permission_classes = [StaffReadSupportWrite]
    serializer_class = ReceivedAlertSerializer

    def get_queryset(self):
        unmapped = self.request.query_params.get("unmapped", "").lower() in {"1", "true", "yes"}
        return selectors.received_alerts(source=self.request.query_params.get("source") or None, unmapped=unmapped)

    @extend_schema(
        request=RemapSerializer,
        responses={200: inline_serializer("RemapResult", {"outcomes": serializers.DictField()})},
    )
    @action(detail=False, methods=["post"])
    def remap(self, request):
        """Apply the current mappings to the unmapped alerts (after a mapping was fixed)."""
        serializer = RemapSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        counts = alert_services.remap_unmapped_alerts(
            actor=request.user, source=serializer.validated_data.get("source")
        )
        return Response({"outcomes": dict(counts)})
