"""The one set of incident filters, shared by the API list and the console list.

As a django-filter ``FilterSet`` it validates the query (an unknown impact or a date that
is not a date is an input error, never a server error) and documents its parameters in
the OpenAPI schema by itself.
"""

from datetime import date, datetime, time

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Cause, Impact, Incident, IncidentState


def _start_of(day: date) -> datetime:
    """Midnight of ``day`` in the active time zone (what a date picker means)."""
    return timezone.make_aware(datetime.combine(day, time.min))


class IncidentFilterSet(django_filters.FilterSet):
    service = django_filters.CharFilter(field_name="service__code", label=_("Service"), help_text=_("service code"))
    provider = django_filters.CharFilter(
        field_name="service__provider__name", label=_("Provider"), help_text=_("provider name")
    )
    impact = django_filters.ChoiceFilter(choices=Impact.choices, label=_("Impact"))
    state = django_filters.ChoiceFilter(choices=IncidentState.choices, label=_("State"))
    cause = django_filters.ChoiceFilter(choices=Cause.choices, label=_("Cause"))
    region = django_filters.CharFilter(
        field_name="regions__code", distinct=True, label=_("Region"), help_text=_("region code")
    )
    since = django_filters.DateFilter(
        method="filter_since", label=_("Active since"), help_text=_("still open or resolved on or after this day")
    )
    until = django_filters.DateFilter(method="filter_until", label=_("Until"), help_text=_("started before this day"))
    search = django_filters.CharFilter(
        method="filter_search", label=_("Search"), help_text=_("in the title and the external id")
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_since(self, queryset: QuerySet[Incident], name: str, value: date) -> QuerySet[Incident]:
        return queryset.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gte=_start_of(value)))

    def filter_until(self, queryset: QuerySet[Incident], name: str, value: date) -> QuerySet[Incident]:
        return queryset.filter(started_at__lt=_start_of(value))

    def filter_search(self, queryset: QuerySet[Incident], name: str, value: str) -> QuerySet[Incident]:
        return queryset.filter(Q(title__icontains=value) | Q(external_id__icontains=value))
