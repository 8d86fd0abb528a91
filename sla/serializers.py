from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers
from rest_framework.fields import SkipField

from incidents.models import Impact, Provider, Service

from .models import ProviderCreditClaim, ProviderCreditClaimEvent, SLAContract, SLAEvaluation


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


class CreditClaimEventSerializer(serializers.ModelSerializer):
    by = serializers.CharField(source="actor.username", default=None, read_only=True)

    class Meta:
        model = ProviderCreditClaimEvent
        fields = ["at", "action", "from_state", "to_state", "by", "message", "reference", "amount"]


class CreditStatusSerializer(serializers.Serializer):
    """``sla.selectors.CreditStatus``: the figures every SLA page and export shows."""

    currency = serializers.CharField()
    due = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="the credit the contract gives")
    filed = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="of which filed with the provider")
    received = serializers.DecimalField(max_digits=14, decimal_places=2)
    written_off = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="what a closed claim did not bring in"
    )
    still_due = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="due - received - written off")


class ProviderCreditClaimSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="provider.name", read_only=True)
    period = serializers.SerializerMethodField()
    deadline_warning = serializers.BooleanField(read_only=True)
    outstanding = serializers.DecimalField(
        max_digits=14, decimal_places=2, read_only=True, help_text="the same as credit_figures.still_due"
    )
    credit_figures = CreditStatusSerializer(read_only=True)

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
            "credit_figures",
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
        events = obj.events.select_related("actor").order_by("at", "id")
        return list(CreditClaimEventSerializer(events, many=True).data)


class CorrectionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class FileSerializer(serializers.Serializer):
    """The same rule as the page: the provider's reference, and the amount the filer saw (a stale
    amount is refused rather than filed)."""

    provider_reference = serializers.CharField(max_length=120)
    amount_claimed = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AcknowledgeSerializer(serializers.Serializer):
    provider_reference = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CreditSerializer(serializers.Serializer):
    amount_received = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=2000, help_text="The provider's reason.")


# --- The contracts import (a JSON list of contracts) ----------------------------------------

_REQUIRED: dict[str, Any] = {"required": gettext_lazy("is required"), "null": gettext_lazy("is required")}


MAX_INTEGER = 2**31 - 1  # the database's integer columns (version, hours, days, minutes)
MAX_INTEGER_DIGITS = 12  # digits before the point of the money columns


class ContractDecimalField(serializers.Field):
    """A decimal given as a string (or an int): a float is refused, since 99.95 may not be 99.95."""

    def __init__(self, *, places: int = 4, low: Decimal | None = None, high: Decimal | None = None, **kwargs):
        kwargs.setdefault("error_messages", _REQUIRED)
        super().__init__(**kwargs)
        self.places, self.low, self.high = places, low, high

    def to_internal_value(self, data):
        if isinstance(data, float | bool):
            raise serializers.ValidationError(
                _('must be a decimal string like "99.95", got %(value)r') % {"value": data}
            )
        try:
            number = Decimal(str(data))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise serializers.ValidationError(_("is not a decimal number: %(value)r") % {"value": data})
        if number.adjusted() >= MAX_INTEGER_DIGITS:
            # "1e309" or twenty digits: a valid Decimal that no money column (14 digits, 2 places) holds.
            raise serializers.ValidationError(_("is too large: %(value)s") % {"value": data})
        problems = []
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -self.places:
            problems.append(
                _("has more than %(places)s decimal places: %(value)s") % {"places": self.places, "value": data}
            )
        if self.low is not None and number < self.low:
            problems.append(_("must be at least %(low)s, got %(value)s") % {"low": self.low, "value": data})
        if self.high is not None and number > self.high:
            problems.append(_("must be at most %(high)s, got %(value)s") % {"high": self.high, "value": data})
        if problems:
            raise serializers.ValidationError(problems)
        return number

    def to_representation(self, value):
        return str(value)


class ContractIntegerField(serializers.Field):
    """A JSON whole number; "30" or 30.0 are refused rather than guessed."""

    def __init__(self, *, low: int = 0, **kwargs):
        kwargs.setdefault("error_messages", _REQUIRED)
        super().__init__(**kwargs)
        self.low = low

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError(_("must be a whole number, got %(value)r") % {"value": data})
        if data < self.low:
            raise serializers.ValidationError(
                _("must be at least %(low)s, got %(value)s") % {"low": self.low, "value": data}
            )
        if data > MAX_INTEGER:
            raise serializers.ValidationError(
                _("must be at most %(high)s, got %(value)s") % {"high": MAX_INTEGER, "value": data}
            )
        return data

    def to_representation(self, value):
        return value


class ContractDateField(serializers.Field):
    default_error_messages = {"required": gettext_lazy("is required (YYYY-MM-DD)")}

    def to_internal_value(self, data):
        try:
            if isinstance(data, str) and len(data) == 10:
                return date.fromisoformat(data)
        except ValueError:
            pass
        raise serializers.ValidationError(_("must be a date YYYY-MM-DD, got %(value)r") % {"value": data})

    def to_representation(self, value):
        return value.isoformat()


class _ExactKeysSerializer(serializers.Serializer):
    """A small JSON object whose keys are exactly the fields (a typo is an error, not a default)."""

    shape = ""

    def to_internal_value(self, data):
        if not isinstance(data, dict) or set(data) != set(self.fields):
            raise serializers.ValidationError(_("must be %(shape)s") % {"shape": self.shape})
        return super().to_internal_value(data)


class CreditTierSerializer(_ExactKeysSerializer):
    shape = '{"below": ..., "credit_percent": ...}'
    below = ContractDecimalField(low=Decimal(0), high=Decimal(100))
    credit_percent = ContractDecimalField(low=Decimal(0), high=Decimal(100), places=2)

    def validate(self, attrs):
        return {"below": str(attrs["below"]), "credit_percent": str(attrs["credit_percent"])}


class RecoveryTargetSerializer(_ExactKeysSerializer):
    shape = '{"impact": ..., "max_minutes": ..., "credit_percent": ...}'
    impact = serializers.CharField()
    max_minutes = ContractIntegerField(low=1)
    credit_percent = ContractDecimalField(low=Decimal(0), high=Decimal(100), places=2)

    def validate_impact(self, value):
        if value not in Impact.values:
            raise serializers.ValidationError(
                _("must be one of %(choices)s, got %(value)r") % {"choices": ", ".join(Impact.values), "value": value}
            )
        return value

    def validate(self, attrs):
        return {**attrs, "credit_percent": str(attrs["credit_percent"])}


class QualityTargetSerializer(serializers.Serializer):
    """``{"metric": ..., "max" or "min": ..., "min_compliance_percent": ..., "credit_percent": ...}``."""

    shape = '{"metric": ..., "max" or "min": ..., "min_compliance_percent": ..., "credit_percent": ...}'
    metric = serializers.CharField()
    max = ContractDecimalField(low=Decimal(0), required=False)
    min = ContractDecimalField(low=Decimal(0), required=False)
    min_compliance_percent = ContractDecimalField(low=Decimal(0), high=Decimal(100))
    credit_percent = ContractDecimalField(low=Decimal(0), high=Decimal(100), places=2)

    def to_internal_value(self, data):
        keys = set(data) if isinstance(data, dict) else set()
        bounds = keys & {"max", "min"}
        if keys - bounds != {"metric", "min_compliance_percent", "credit_percent"} or len(bounds) != 1:
            raise serializers.ValidationError(_("must be %(shape)s") % {"shape": self.shape})
        return super().to_internal_value(data)

    def validate_metric(self, value):
        from .telemetry_evaluation import QUALITY_METRICS

        if value not in QUALITY_METRICS:
            raise serializers.ValidationError(
                _("must be one of %(choices)s, got %(value)r") % {"choices": ", ".join(QUALITY_METRICS), "value": value}
            )
        return value

    def validate(self, attrs):
        bound = "max" if "max" in attrs else "min"
        if attrs["metric"] != "join_p95_ms" and attrs[bound] > 100:
            raise serializers.ValidationError({bound: [_("must be at most 100")]})
        return {
            "metric": attrs["metric"],
            bound: str(attrs[bound]),
            "min_compliance_percent": str(attrs["min_compliance_percent"]),
            "credit_percent": str(attrs["credit_percent"]),
        }


class ContractSerializer(serializers.Serializer):
    """One SLA contract version of the import file, checked field by field.

    Every problem of an item is reported at once (unknown fields, field values and the
    checks across fields), so one run of the import lists everything to fix.
    """

    code = serializers.CharField(max_length=60, error_messages={**_REQUIRED, "blank": gettext_lazy("is required")})
    version = ContractIntegerField(low=1, required=False, default=1)
    provider = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Provider.objects.all(),
        error_messages={**_REQUIRED, "does_not_exist": gettext_lazy("unknown provider '{value}'")},
    )
    services = serializers.ListField(
        child=serializers.CharField(),
        allow_empty=False,
        error_messages={
            **_REQUIRED,
            "empty": gettext_lazy("must be a non-empty list of service codes"),
            "not_a_list": gettext_lazy("must be a non-empty list of service codes"),
        },
    )
    currency = serializers.CharField(error_messages=_REQUIRED)
    monthly_fee = ContractDecimalField(low=Decimal(0), places=2)
    timezone = serializers.CharField(required=False, default="Asia/Shanghai")
    effective_from = ContractDateField()
    effective_to = ContractDateField(required=False, allow_null=True, default=None)
    availability_target = ContractDecimalField(low=Decimal(0), high=Decimal(100))
    partial_outage_weight = ContractDecimalField(
        low=Decimal(0), high=Decimal(1), required=False, default=Decimal("0.5")
    )
    degraded_weight = ContractDecimalField(low=Decimal(0), high=Decimal(1), required=False, default=Decimal(0))
    maintenance_notice_hours = ContractIntegerField(required=False, default=0)
    credit_cap_percent = ContractDecimalField(
        low=Decimal(0), high=Decimal(100), places=2, required=False, default=Decimal(100)
    )
    credit_tiers = serializers.ListField(child=CreditTierSerializer(), error_messages=_REQUIRED)
    recovery_targets = serializers.ListField(child=RecoveryTargetSerializer(), required=False, default=list)
    first_response_minutes = ContractIntegerField(required=False, allow_null=True, default=None)
    first_response_credit_percent = ContractDecimalField(
        low=Decimal(0), high=Decimal(100), places=2, required=False, default=Decimal(0)
    )
    claim_window_days = ContractIntegerField(required=False, default=30)
    min_downtime_minutes = ContractIntegerField(required=False, default=0)
    min_credit_amount = ContractDecimalField(low=Decimal(0), places=2, required=False, default=Decimal(0))
    amendment_reason = serializers.CharField(required=False, allow_blank=True, allow_null=True, default="")
    # Availability from provider telemetry instead of incidents (README: "Error-rate SLAs").
    availability_method = serializers.CharField(required=False, default="incidents")
    error_rate_threshold_percent = ContractDecimalField(
        low=Decimal(0), high=Decimal(100), required=False, default=Decimal(0)
    )
    min_requests_per_window = ContractIntegerField(required=False, default=0)
    min_down_run_minutes = ContractIntegerField(required=False, default=0)
    quality_targets = serializers.ListField(child=QualityTargetSerializer(), required=False, default=list)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        """DRF's field loop, but the checks across fields also run on the fields that are valid."""
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("must be an object"))
        errors: dict[str, Any] = {name: [_("unknown field")] for name in sorted(set(data) - set(self.fields))}
        attrs: dict[str, Any] = {}
        for name, field in self.fields.items():  # none is read-only
            check = getattr(self, f"validate_{name}", None)
            try:
                value = field.run_validation(field.get_value(data))
                attrs[name] = check(value) if check else value
            except serializers.ValidationError as exc:
                errors[name] = exc.detail
            except SkipField:
                pass
        for name, detail in self._across_fields(attrs).items():
            errors.setdefault(name, detail)
        from .telemetry_evaluation import ERROR_RATE_WINDOWS

        if attrs.get("availability_method") == ERROR_RATE_WINDOWS and data.get("error_rate_threshold_percent") is None:
            errors.setdefault("error_rate_threshold_percent", [_("is required for the error_rate_windows method")])
        if errors:
            raise serializers.ValidationError(errors)
        attrs["amendment_reason"] = attrs.get("amendment_reason") or ""
        return attrs

    def _across_fields(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        provider, codes = attrs.get("provider"), attrs.get("services")
        if codes is not None:
            known = {s.code: s for s in Service.objects.select_related("provider").filter(code__in=codes)}
            wrong: dict[int, list[str]] = {}
            for i, code in enumerate(codes):
                service = known.get(code)
                if service is None:
                    wrong[i] = [_("unknown service %(code)r") % {"code": code}]
                elif provider is not None and service.provider_id != provider.pk:
                    wrong[i] = [
                        _("service %(code)r belongs to %(owner)s, not %(provider)s")
                        % {"code": code, "owner": service.provider, "provider": provider}
                    ]
            if wrong:
                errors["services"] = wrong
            attrs["services"] = [known[c] for c in codes if c in known]
        start, end = attrs.get("effective_from"), attrs.get("effective_to")
        if start and end and end < start:
            errors["effective_to"] = [_("is before effective_from")]
        return errors

    def validate_availability_method(self, value):
        from .telemetry_evaluation import METHODS

        if value not in METHODS:
            raise serializers.ValidationError(
                _("must be one of %(choices)s, got %(value)r") % {"choices": ", ".join(METHODS), "value": value}
            )
        return value

    def validate_currency(self, value):
        if not (len(value) == 3 and value.isupper()):
            raise serializers.ValidationError(
                _("must be a 3-letter ISO code like CNY, got %(value)r") % {"value": value}
            )
        return value

    def validate_timezone(self, value):
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError(_("unknown time zone %(value)r") % {"value": value}) from None
        return value

    def validate_credit_tiers(self, value):
        belows = [t["below"] for t in value]
        if len(set(belows)) != len(belows):
            raise serializers.ValidationError(_("two tiers have the same 'below'"))
        return value

    def validate_recovery_targets(self, value):
        impacts = [t["impact"] for t in value]
        if len(set(impacts)) != len(impacts):
            raise serializers.ValidationError(_("two targets for the same impact"))
        return value
