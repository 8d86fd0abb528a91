from django_fsm_log.models import StateLog
from rest_framework import serializers

from .models import ProviderCreditClaim, SLAContract, SLAEvaluation


class SLAContractSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="provider.name", read_only=True)
    services = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = SLAContract
        fields = ["id", "code", "version", "provider", "services", *SLAContract.TERM_FIELDS, "created_at"]
        read_only_fields = fields


class SLAEvaluationSerializer(serializers.ModelSerializer):
    period = serializers.CharField(source="period_label", read_only=True)
    contract_version = serializers.IntegerField(source="contract.version", read_only=True)
    is_final = serializers.BooleanField(read_only=True)
    meets_target = serializers.BooleanField(read_only=True)

    class Meta:
        model = SLAEvaluation
        fields = [
            "id",
            "contract_code",
            "contract",
            "contract_version",
            "period",
            "revision",
            "is_current",
            "reason",
            "evaluated_at",
            "finalized_at",
            "is_final",
            "provisional",
            "outdated",
            "eligible_minutes",
            "excluded_minutes",
            "downtime_minutes",
            "availability_percent",
            "availability_target",
            "meets_target",
            "tier_credit_percent",
            "recovery_breaches",
            "response_breaches",
            "credit_percent",
            "credit_amount",
            "currency",
            "claim_deadline",
        ]
        read_only_fields = fields


class SLAEvaluationDetailSerializer(SLAEvaluationSerializer):
    class Meta(SLAEvaluationSerializer.Meta):
        fields = [*SLAEvaluationSerializer.Meta.fields, "details"]
        read_only_fields = fields


class StateLogSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="by.username", default=None, read_only=True)

    class Meta:
        model = StateLog
        fields = ["timestamp", "source_state", "state", "transition", "by", "description"]


class ProviderCreditClaimSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="provider.name", read_only=True)
    period = serializers.SerializerMethodField()
    deadline_warning = serializers.BooleanField(read_only=True)
    outstanding = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)

    class Meta:
        model = ProviderCreditClaim
        fields = [
            "id",
            "contract_code",
            "period",
            "provider",
            "evaluation",
            "state",
            "currency",
            "amount_claimed",
            "amount_received",
            "outstanding",
            "claim_deadline",
            "deadline_warning",
            "provider_reference",
            "filed_at",
            "acknowledged_at",
            "closed_at",
            "rejection_reason",
        ]
        read_only_fields = fields

    def get_period(self, obj) -> str:
        return f"{obj.period:%Y-%m}"


class ProviderCreditClaimDetailSerializer(ProviderCreditClaimSerializer):
    history = serializers.SerializerMethodField()

    class Meta(ProviderCreditClaimSerializer.Meta):
        fields = [*ProviderCreditClaimSerializer.Meta.fields, "history"]
        read_only_fields = fields

    def get_history(self, obj) -> list[dict]:
        logs = StateLog.objects.for_(obj).select_related("by").order_by("timestamp", "id")
        return StateLogSerializer(logs, many=True).data


class CorrectionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class FileSerializer(serializers.Serializer):
    provider_reference = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CreditClaimFilingSerializer(serializers.Serializer):
    provider_reference = serializers.CharField(max_length=120)
    amount_claimed = serializers.DecimalField(
        max_digits=14, decimal_places=2, min_value=0, help_text="The amount shown when filing; a stale one is refused."
    )
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CreditSerializer(serializers.Serializer):
    amount_received = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
