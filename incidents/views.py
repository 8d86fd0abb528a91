"""Staff console pages for incidents. Thin: forms in, services and selectors out."""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from accounts.decorators import staff_required, support_required
from core.actions import empty_forms, form_error_list, run_page_action

from . import actions, alert_services, selectors, services
from .filters import IncidentFilterSet
from .forms import IncidentForm
from .models import AlertSource, Cause, Impact, Incident, IncidentState, Provider, Region, Service
from .records import IncidentRecordSerializer, flatten_errors


@staff_required
def incident_list(request):
    filterset = IncidentFilterSet(request.GET, queryset=selectors.incident_list())
    incidents = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(incidents, 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/list.html",
        {
            "page": page,
            "filters": request.GET,
            "filter_errors": {
                (filterset.form.fields[name].label or name) if name in filterset.form.fields else name: errors
                for name, errors in filterset.errors.items()
            },
            "query": query.urlencode(),
            "services": Service.objects.all(),
            "providers": Provider.objects.all(),
            "regions": Region.objects.all(),
            "impacts": Impact.choices,
            "states": IncidentState.choices,
            "causes": Cause.choices,
        },
        status=400 if filterset.errors else 200,  # the filters were wrong: said on the page, and by the status
    )


CLAIMS_SHOWN = 20


@staff_required
def incident_detail(request, pk):
    return _detail_page(request, get_object_or_404(Incident, pk=pk))


def _detail_page(request, incident, *, bound_forms=None, error=None, status=200, failed_action=""):
    """The incident page; after a refused action it is drawn again with the bound form and its errors."""
    incident = selectors.incident_detail(pk=incident.pk)
    # Its claims through the reverse relation (incidents does not import claims): from the
    # incident straight to who was compensated for it.
    claims = list(incident.claims.select_related("merchant").order_by("-id")[: CLAIMS_SHOWN + 1])
    page_forms = {**empty_forms(actions.INCIDENT), **(bound_forms or {})}
    transition_form = page_forms.get("transition_form")
    if transition_form is not None:
        # Offer only the moves the incident can make now (no "Acknowledge" once acknowledged).
        field = transition_form.fields["action"]
        field.choices = [(name, label) for name, label in field.choices if can_proceed(getattr(incident, name))]
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "bar": selectors.timeline_bar(incident=incident),
            "claims": claims[:CLAIMS_SHOWN],
            "claims_more": len(claims) > CLAIMS_SHOWN,
            **page_forms,
            "failed_action": failed_action,
            "error_summary": form_error_list(bound_forms or {}, error),
        },
        status=status,
    )


def _save(request, form, *, source, external_id, incident=None):
    serializer = IncidentRecordSerializer(
        data=form.record_data(source=source, external_id=external_id, incident=incident)
    )
    if not serializer.is_valid():
        for field, message in flatten_errors(serializer.errors):
            form.add_error(field if field in form.fields else None, message)
        return None
    try:
        return services.upsert_incident(record=serializer.to_record(), origin="console", actor=request.user).incident
    except services.IncidentConflict as exc:
        form.add_error(None, str(exc))
        return None


@support_required
def incident_create(request):
    form = IncidentForm(request.POST or None, initial={"started_at": timezone.localtime().replace(second=0)})
    if request.method == "POST" and form.is_valid():
        external_id = f"C-{timezone.localdate():%Y%m%d}-{uuid.uuid4().hex[:6]}"
        incident = _save(request, form, source="console", external_id=external_id)
        if incident:
            messages.success(request, _("Incident recorded."))
            return redirect("incidents:detail", pk=incident.pk)
    # A refused form is drawn again with its errors, answered 400 like every refused input.
    return render(request, "incidents/form.html", {"form": form}, status=400 if request.method == "POST" else 200)


@support_required
def incident_edit(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    initial = {
        "title": incident.title,
        "service": incident.service,
        "regions": incident.regions.all(),
        "impact": incident.impact,
        "cause": incident.cause,
        "started_at": timezone.localtime(incident.started_at),
        "detected_at": timezone.localtime(incident.detected_at),
    }
    form = IncidentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        if _save(request, form, source=incident.source, external_id=incident.external_id, incident=incident):
            messages.success(request, _("Incident updated."))
            return redirect("incidents:detail", pk=incident.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "incidents/form.html", {"form": form, "incident": incident}, status=status)


@support_required
@require_POST
def incident_action(request, pk, action):
    incident = get_object_or_404(Incident, pk=pk)
    return run_page_action(
        request,
        actions.INCIDENT,
        action,
        incident,
        render_page=_detail_page,
        redirect_to=reverse("incidents:detail", args=[incident.pk]),
    )


@staff_required
def alert_list(request):
    """Alerts from Alertmanager and Grafana that no mapping could place (or all of them),
    so that staff can fix a source's mapping and map them again."""
    show_all = request.GET.get("all") == "1"
    source = request.GET.get("source") or None
    alerts = selectors.received_alerts(source=source, unmapped=not show_all)
    page = Paginator(alerts, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/alerts.html",
        {"page": page, "sources": selectors.alert_sources_overview(), "source": source, "show_all": show_all},
    )


@support_required
@require_POST
def alert_remap(request):
    source = None
    if request.POST.get("source"):
        source = get_object_or_404(AlertSource, name=request.POST["source"])
    counts = alert_services.remap_unmapped_alerts(actor=request.user, source=source)
    placed = sum(n for outcome, n in counts.items() if outcome not in {"unmapped", "conflict"})
    messages.success(
        request,
        _("%(placed)s alert(s) mapped to incidents; %(left)s still unmapped.")
        % {"placed": placed, "left": counts.get("unmapped", 0)},
    )
    return redirect("incidents:alerts")
