"""Validation of incoming incident and maintenance records, whatever their channel.

Webhook JSON, CSV rows, the API and the staff console all describe an incident with the
same fields; they are validated here, once, into plain records for ``services``.
Errors come back per field, so callers can name the field (or CSV column) that failed.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Cause, Impact, Incident, IncidentState, Region, Service

INCIDENT_CSV_COLUMNS = [
    "source",
    "external_id",
    "provider",
    "service",
    "regions",
    "impact",
    "cause",
    "title",
    "started_at",
    "detected_at",
    "acknowledged_at",
    "resolved_at",
]
MAINTENANCE_CSV_COLUMNS = ["provider", "service", "regions", "starts_at", "ends_at", "announced_at"]


@dataclass(frozen=True)
class IncidentRecord:
    source: str
    external_id: str
    title: str
    service: Service
    regions: tuple[Region, ...]
    impact: str
    cause: str
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    voided: bool = False
    source_updated_at: datetime | None = None
    message: str = ""

    @property
    def target_state(self) -> str:
        if self.voided:
            return IncidentState.VOIDED
        if self.resolved_at:
            return IncidentState.RESOLVED
        if self.mitigated_at:
            return IncidentState.MITIGATED
        if self.acknowledged_at:
            return IncidentState.ACKNOWLEDGED
        return IncidentState.DETECTED


@dataclass(frozen=True)
class MaintenanceRecord:
    service: Service
    regions: tuple[Region, ...]
    starts_at: datetime
    ends_at: datetime
    announced_at: datetime
    description: str = ""


class AwareDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an explicit UTC offset; a naive time is refused, never guessed."""

    default_error_messages = {"naive": gettext_lazy("must include a UTC offset, e.g. 2026-10-05T20:00:00+08:00")}

    def to_internal_value(self, value):
        if isinstance(value, str) and value.strip():
            from django.utils.dateparse import parse_datetime

            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class RegionListField(serializers.Field):
    """Region codes as a list, or as one string separated by ``;`` (CSV)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            codes = [c.strip() for c in data.split(";") if c.strip()]
        elif isinstance(data, list) and all(isinstance(c, str) for c in data):
            codes = [c.strip() for c in data if c.strip()]
        else:
            raise serializers.ValidationError(_("must be a list of region codes or codes separated by ';'"))
        if not codes:
            raise serializers.ValidationError(_("at least one region is required"))
        found = {r.code: r for r in Region.objects.filter(code__in=codes)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise serializers.ValidationError(_("unknown region(s): %(codes)s") % {"codes": ", ".join(unknown)})
        return tuple(found[c] for c in dict.fromkeys(codes))

    def to_representation(self, value):
        return [r.code for r in value]


def _empty_to_none(data, names):
    return {k: (None if k in names and v in ("", None) else v) for k, v in data.items()}


class _ServiceMixin:
    def _resolve_service(self, attrs):
        provider_name = attrs.pop("provider", None)
        code = attrs.get("service")
        service = Service.objects.select_related("provider").filter(code=code).first()
        if service is None:
            raise serializers.ValidationError({"service": _("unknown service '%(code)s'") % {"code": code}})
        if provider_name and service.provider.name != provider_name:
            raise serializers.ValidationError(
                {
                    "provider": _("service '%(code)s' belongs to '%(owner)s', not '%(given)s'")
                    % {"code": code, "owner": service.provider.name, "given": provider_name}
                }
            )
        attrs["service"] = service
        return attrs


class IncidentRecordSerializer(_ServiceMixin, serializers.Serializer):
    source = serializers.SlugField(max_length=60)  # type: ignore[assignment]  # a field, not Field.source
    external_id = serializers.CharField(max_length=120)
    title = serializers.CharField(max_length=255)
    provider = serializers.CharField(max_length=120, required=False, allow_blank=True)
    service = serializers.CharField(max_length=60)
    regions = RegionListField()
    impact = serializers.ChoiceField(choices=Impact.choices)
    cause = serializers.ChoiceField(choices=Cause.choices, required=False, default=Cause.UNKNOWN)
    started_at = AwareDateTimeField()
    detected_at = AwareDateTimeField(required=False, allow_null=True)
    acknowledged_at = AwareDateTimeField(required=False, allow_null=True)
    mitigated_at = AwareDateTimeField(required=False, allow_null=True)
    resolved_at = AwareDateTimeField(required=False, allow_null=True)
    status = serializers.ChoiceField(
        choices=IncidentState.choices, required=False, allow_blank=True, help_text="Only 'voided' changes anything."
    )
    updated_at = AwareDateTimeField(
        required=False, allow_null=True, help_text="The sender's last-change time; older updates are ignored."
    )
    message = serializers.CharField(required=False, allow_blank=True, default="")

    def to_internal_value(self, data):
        nullable = {"detected_at", "acknowledged_at", "mitigated_at", "resolved_at", "updated_at", "status"}
        return super().to_internal_value(_empty_to_none(dict(data), nullable))

    def validate(self, attrs):
        attrs = self._resolve_service(attrs)
        attrs["detected_at"] = attrs.get("detected_at") or attrs["started_at"]
        order = [("started_at", "detected_at"), ("detected_at", "acknowledged_at")]
        order += [("started_at", "mitigated_at"), ("started_at", "resolved_at")]
        order += [
            ("acknowledged_at", "mitigated_at"),
            ("mitigated_at", "resolved_at"),
            ("acknowledged_at", "resolved_at"),
        ]
        for earlier, later in order:
            if attrs.get(earlier) and attrs.get(later) and attrs[later] < attrs[earlier]:
                # The field's name for people ("started at"), not its code: the message reaches
                # the console form and the import report as it is.
                label = Incident._meta.get_field(earlier).verbose_name
                raise serializers.ValidationError({later: _("must not be before %(field)s") % {"field": label}})
        if attrs.get("status") == IncidentState.RESOLVED and not attrs.get("resolved_at"):
            raise serializers.ValidationError({"resolved_at": _("is required when the status is resolved")})
        return attrs

    def to_record(self) -> IncidentRecord:
        d = self.validated_data
        return IncidentRecord(
            source=d["source"],
            external_id=d["external_id"],
            title=d["title"],
            service=d["service"],
            regions=d["regions"],
            impact=d["impact"],
            cause=d.get("cause") or Cause.UNKNOWN,
            started_at=d["started_at"],
            detected_at=d["detected_at"],
            acknowledged_at=d.get("acknowledged_at"),
            mitigated_at=d.get("mitigated_at"),
            resolved_at=d.get("resolved_at"),
            voided=d.get("status") == IncidentState.VOIDED,
            source_updated_at=d.get("updated_at"),
            message=d.get("message") or "",
        )


class MaintenanceRecordSerializer(_ServiceMixin, serializers.Serializer):
    provider = serializers.CharField(max_length=120, required=False, allow_blank=True)
    service = serializers.CharField(max_length=60)
    regions = RegionListField()
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()
    announced_at = AwareDateTimeField()
    description = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        attrs = self._resolve_service(attrs)
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": _("must be after starts_at")})
        return attrs

    def to_record(self) -> MaintenanceRecord:
        d = self.validated_data
        return MaintenanceRecord(
            service=d["service"],
            regions=d["regions"],
            starts_at=d["starts_at"],
            ends_at=d["ends_at"],
            announced_at=d["announced_at"],
            description=d.get("description", ""),
        )


def flatten_errors(errors) -> list[tuple[str, str]]:
    """DRF's error dict as (field, message) pairs, in a stable order."""
    pairs = []
    for field, messages in errors.items():
        if isinstance(messages, dict):
            messages = [f"{k}: {v}" for k, v in messages.items()]
        elif not isinstance(messages, list):
            messages = [messages]
        for message in messages:
            pairs.append(("row" if field == "non_field_errors" else field, str(message)))
    return pairs
