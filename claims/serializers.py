"""DRF serializers of the claim workflow (reads, and one request body per action)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from claims.models import (
    APPROVE_REASONS,
    DISPUTE_REASONS,
    INFO_REQUEST_REASONS,
    PARTIAL_APPROVAL_REASONS,
    REJECT_REASONS,
    Claim,
    ClaimDocument,
    ClaimEvent,
    ClaimNotification,
    ReasonCode,
)

from . import permissions


def _choices(codes) -> list[tuple[str, str]]:
    return [(c.value, c.label) for c in codes]


# Each step's own reasons (named in the API schema by ``SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]``).
APPROVE_CHOICES = _choices(APPROVE_REASONS)
PARTIAL_APPROVAL_CHOICES = _choices(PARTIAL_APPROVAL_REASONS)
REJECT_CHOICES = _choices(REJECT_REASONS)
INFO_REQUEST_CHOICES = _choices(INFO_REQUEST_REASONS)
DISPUTE_CHOICES = _choices(DISPUTE_REASONS)


class MerchantRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class IncidentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    started_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField()


class ClaimSerializer(serializers.ModelSerializer):
    # Blank until decided: the schema admits "" besides the reason codes.
    decision_reason = serializers.ChoiceField(choices=ReasonCode.choices, allow_blank=True, read_only=True)
    merchant = MerchantRefSerializer(read_only=True)
    incident = IncidentRefSerializer(read_only=True)
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)
    overdue = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta:
        model = Claim
        fields = [
            "id",
            "incident",
            "merchant",
            "state",
            "origin",
            "currency",
            "computed_amount",
            "claimed_amount",
            "approved_amount",
            "pending_amount",
            "recomputed_amount",
            "session_reference",
            "assignee",
            "submitted_at",
            "due_at",
            "overdue",
            "expires_at",
            "decided_at",
            "decision_reason",
            "decision_message",
            "dispute_count",
            "created_at",
            "updated_at",
            "allowed_actions",
        ]
        read_only_fields = fields

    def get_overdue(self, obj) -> bool:
        return obj.is_overdue(self.context.get("now") or timezone.now())

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_allowed_actions(self, obj):
        request = self.context.get("request")
        return permissions.allowed_actions(request.user, obj) if request else []


class ClaimEventSerializer(serializers.ModelSerializer):
    # A system event has no actor and a comment no reason: the schema says so (null, "").
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    reason_code = serializers.ChoiceField(choices=ReasonCode.choices, allow_blank=True, read_only=True)

    class Meta:
        model = ClaimEvent
        fields = [
            "id",
            "kind",
            "action",
            "actor",
            "actor_role",
            "from_state",
            "to_state",
            "reason_code",
            "message",
            "amount",
            "computed_amount",
            "currency",
            "created_at",
        ]
        read_only_fields = fields


class ClaimDocumentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ClaimDocument
        fields = [
            "id",
            "original_name",
            "kind",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        from django.urls import reverse

        return reverse("claims_api:claim-document-download", args=[obj.claim_id, obj.pk])


class ClaimDetailSerializer(ClaimSerializer):
    dispute_reason = serializers.ChoiceField(choices=ReasonCode.choices, allow_blank=True, read_only=True)
    events = ClaimEventSerializer(many=True, read_only=True)
    documents = ClaimDocumentSerializer(many=True, read_only=True)
    loss = serializers.SerializerMethodField(
        help_text="The loss engine's current figures, each arithmetic on the ones before (null: none)."
    )

    class Meta(ClaimSerializer.Meta):
        fields = [
            *ClaimSerializer.Meta.fields,
            "statement",
            "dispute_reason",
            "dispute_statement",
            "payment_reference",
            "events",
            "documents",
            "loss",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_loss(self, obj) -> dict | None:
        from losses.selectors import explanation_json

        from .selectors import current_assessment

        assessment = current_assessment(claim=obj)
        return explanation_json(assessment=assessment) if assessment is not None else None


# What merchants never see: an approval waiting for its second approver, the engine's
# recomputed estimate and the names of staff members. The OpenAPI schema marks these
# fields optional (config.schema.staff_only_fields_optional).
STAFF_ONLY_FIELDS = {
    "Claim": ("pending_amount", "recomputed_amount", "assignee"),
    "ClaimDetail": ("pending_amount", "recomputed_amount", "assignee"),
    "ClaimEvent": ("actor",),
}


class MerchantClaimEventSerializer(ClaimEventSerializer):
    class Meta(ClaimEventSerializer.Meta):
        fields = [f for f in ClaimEventSerializer.Meta.fields if f not in STAFF_ONLY_FIELDS["ClaimEvent"]]
        read_only_fields = fields


class MerchantClaimSerializer(ClaimSerializer):
    class Meta(ClaimSerializer.Meta):
        fields = [f for f in ClaimSerializer.Meta.fields if f not in STAFF_ONLY_FIELDS["Claim"]]
        read_only_fields = fields


class MerchantClaimDetailSerializer(ClaimDetailSerializer):
    events = MerchantClaimEventSerializer(many=True, read_only=True)

    class Meta(ClaimDetailSerializer.Meta):
        fields = [f for f in ClaimDetailSerializer.Meta.fields if f not in STAFF_ONLY_FIELDS["ClaimDetail"]]
        read_only_fields = fields


def claim_serializer_class(user, *, detail: bool):
    """Staff see the whole claim; merchant users the merchant-facing fields only."""
    from accounts import roles

    if roles.is_staff_role(user):
        return ClaimDetailSerializer if detail else ClaimSerializer
    return MerchantClaimDetailSerializer if detail else MerchantClaimSerializer


class FileClaimSerializer(serializers.Serializer):
    merchant = serializers.IntegerField()
    incident = serializers.IntegerField()
    claimed_amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    statement = serializers.CharField()
    session_reference = serializers.CharField(required=False, allow_blank=True, default="")
    documents = serializers.ListField(child=serializers.FileField(), min_length=1)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(required=False, allow_blank=True, default="")


class AnswerSerializer(serializers.Serializer):
    message = serializers.CharField()
    documents = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class ReasonMessageSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=INFO_REQUEST_CHOICES)
    message = serializers.CharField()


class DecisionSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=APPROVE_CHOICES)
    message = serializers.CharField()


class RejectDecisionSerializer(DecisionSerializer):
    reason = serializers.ChoiceField(choices=REJECT_CHOICES)


class PartialDecisionSerializer(DecisionSerializer):
    reason = serializers.ChoiceField(choices=PARTIAL_APPROVAL_CHOICES)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class DisputeSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=DISPUTE_CHOICES)
    statement = serializers.CharField()
    documents = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class SettleSerializer(serializers.Serializer):
    payment_reference = serializers.CharField(max_length=120)


class BulkApproveSerializer(serializers.Serializer):
    incident = serializers.IntegerField()
    threshold = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    reason = serializers.ChoiceField(choices=APPROVE_CHOICES, default="loss_confirmed")
    message = serializers.CharField(required=False, allow_blank=True, default="")


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class NotificationSerializer(serializers.ModelSerializer):
    subject = serializers.CharField(source="localized_subject", read_only=True)
    body = serializers.CharField(source="text", read_only=True)

    class Meta:
        model = ClaimNotification
        fields = ["id", "claim", "subject", "body", "created_at", "read_at"]
        read_only_fields = fields
