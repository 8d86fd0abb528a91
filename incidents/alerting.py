"""Alert notifications from Alertmanager (webhook version 4) and Grafana alerting, read
into plain records, and the per-source label mapping that places an alert on a service,
regions, an impact and a cause.

Both senders post the same alert shape (``status``, ``labels``, ``annotations``,
``startsAt``, ``endsAt``, ``fingerprint``); Go writes "no end" as the zero time.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import AlertSource, Cause, ReceivedAlert, Region, Service

# Go's zero time.Time: Alertmanager's way of saying "still firing".
GO_ZERO_YEAR = 1
MAX_ALERTS_PER_NOTIFICATION = 20000


@dataclass(frozen=True)
class AlertData:
    status: str
    labels: dict
    annotations: dict
    starts_at: datetime
    ends_at: datetime | None
    fingerprint: str


@dataclass(frozen=True)
class Notification:
    alerts: tuple[AlertData, ...]
    group_key: str
    truncated_alerts: int


@dataclass(frozen=True)
class Placement:
    service: Service
    regions: tuple[Region, ...]
    impact: str
    cause: str


class Unmapped(Exception):
    """The source's mapping cannot place this alert; the message says why, for staff."""


@extend_schema_field(OpenApiTypes.DATETIME)
class GoTimeField(serializers.Field):
    """An RFC 3339 time with offset (nanoseconds allowed); Go's zero time reads as ``None``."""

    default_error_messages = {"invalid": "must be an RFC 3339 time with a UTC offset, e.g. 2026-10-05T12:00:00Z"}

    def to_internal_value(self, data):
        if data in (None, ""):
            return None
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            parsed = parse_datetime(data.strip())
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.fail("invalid")
        if parsed.year == GO_ZERO_YEAR:
            return None
        return parsed

    def to_representation(self, value):
        return value.isoformat() if value else None


class StringMapField(serializers.DictField):
    """Prometheus labels and annotations: string to string (numbers are taken as text)."""

    child = serializers.CharField(allow_blank=True, trim_whitespace=False)


class AlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReceivedAlert.Status.choices)
    labels = StringMapField()
    annotations = StringMapField(required=False, default=dict)
    startsAt = GoTimeField()
    endsAt = GoTimeField(required=False, allow_null=True, default=None)
    fingerprint = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["startsAt"] is None:
            raise serializers.ValidationError({"startsAt": "is required"})
        if attrs["endsAt"] and attrs["endsAt"] < attrs["startsAt"]:
            raise serializers.ValidationError({"endsAt": "must not be before startsAt"})
        if not attrs["labels"]:
            raise serializers.ValidationError({"labels": "at least one label is required"})
        return attrs


class NotificationSerializer(serializers.Serializer):
    """The webhook body Alertmanager (version "4") and Grafana (version "1") send."""

    version = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ReceivedAlert.Status.choices, required=False)
    receiver = serializers.CharField(required=False, allow_blank=True)
    groupKey = serializers.CharField(required=False, allow_blank=True, default="")
    truncatedAlerts = serializers.IntegerField(required=False, min_value=0, default=0)
    alerts = AlertSerializer(many=True, max_length=MAX_ALERTS_PER_NOTIFICATION)  # type: ignore[call-arg]  # for the list

    def to_notification(self) -> Notification:
        d = self.validated_data
        return Notification(
            alerts=tuple(
                AlertData(
                    status=a["status"],
                    labels=dict(a["labels"]),
                    annotations=dict(a["annotations"]),
                    starts_at=a["startsAt"],
                    ends_at=a["endsAt"] if a["status"] == ReceivedAlert.Status.RESOLVED else None,
                    fingerprint=a["fingerprint"] or labels_fingerprint(a["labels"]),
                )
                for a in d["alerts"]
            ),
            group_key=d["groupKey"][:500],  # only shown to staff; a long one is not a reason to refuse
            truncated_alerts=d["truncatedAlerts"],
        )


def labels_fingerprint(labels: dict) -> str:
    """A stable identity for a sender that leaves ``fingerprint`` out (alerts are their labels)."""
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]


def external_id(fingerprint: str, starts_at: datetime) -> str:
    """The incident key of one firing of one alert: a re-fire starts later, so it differs."""
    return f"{fingerprint}@{starts_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"


def alert_title(labels: dict, annotations: dict) -> str:
    title = annotations.get("summary") or annotations.get("title") or labels.get("alertname") or ""
    return (title.strip() or _("Alert")).splitlines()[0][:255]


_REGION_SEPARATORS = re.compile(r"[,;\s]+")


def place_alert(source: AlertSource, labels: dict) -> Placement:
    """Where the source's mapping puts an alert; ``Unmapped`` with the reason otherwise."""
    problems = []

    service: Service | None = None
    value = labels.get(source.service_label, "").strip()
    if not value:
        problems.append(_("no '%(label)s' label (service)") % {"label": source.service_label})
    else:
        code = source.service_values.get(value, value)
        service = Service.objects.select_related("provider").filter(code=code).first()
        if service is None:
            problems.append(
                _("unknown service '%(value)s' (label '%(label)s')") % {"value": value, "label": source.service_label}
            )

    regions: tuple[Region, ...] = ()
    value = labels.get(source.region_label, "").strip()
    if not value:
        problems.append(_("no '%(label)s' label (regions)") % {"label": source.region_label})
    else:
        codes = [source.region_values.get(v, v) for v in _REGION_SEPARATORS.split(value) if v]
        found = {r.code: r for r in Region.objects.filter(code__in=codes)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            problems.append(
                _("unknown region(s) %(codes)s (label '%(label)s')")
                % {"codes": ", ".join(unknown), "label": source.region_label}
            )
        regions = tuple(found[c] for c in dict.fromkeys(codes) if c in found)

    impact: str | None = None
    value = labels.get(source.impact_label, "").strip()
    if value in source.impact_values:
        impact = source.impact_values[value]
    else:
        problems.append(
            _("'%(label)s' is '%(value)s', which the mapping gives no impact")
            % {"label": source.impact_label, "value": value}
        )

    cause = source.default_cause
    value = labels.get(source.cause_label, "").strip() if source.cause_label else ""
    if value:
        if value in Cause.values:
            cause = value
        else:
            problems.append(
                _("unknown cause '%(value)s' (label '%(label)s')") % {"value": value, "label": source.cause_label}
            )

    if problems or service is None or impact is None:  # a missing service or impact is among the problems
        raise Unmapped("; ".join(problems))
    return Placement(service=service, regions=regions, impact=impact, cause=cause)
