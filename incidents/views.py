"""Staff console pages for incidents. Thin: forms in, services and selectors out."""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required, support_required

from . import selectors, services
from .forms import IncidentForm, NoteForm, TransitionForm
from .models import Cause, Impact, Incident, IncidentState, Provider, Region, Service
from .records import IncidentRecordSerializer, flatten_errors

FILTERS = ["service", "provider", "impact", "state", "cause", "region", "since", "until", "search"]


@staff_required
def incident_list(request):
    params = {name: request.GET.get(name) or None for name in FILTERS}
    page = Paginator(selectors.incident_list(**params), 25).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/list.html",
        {
            "page": page,
            "filters": params,
            "query": query.urlencode(),
            "services": Service.objects.all(),
            "providers": Provider.objects.all(),
            "regions": Region.objects.all(),
            "impacts": Impact.choices,
            "states": IncidentState.choices,
            "causes": Cause.choices,
        },
    )


@staff_required
def incident_detail(request, pk):
    try:
        incident = selectors.incident_detail(pk)
    except Incident.DoesNotExist:
        return render(request, "404.html", status=404)
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "bar": selectors.timeline_bar(incident),
            # One auto_id per form: both have a "message" field, their ids and labels must not clash.
            "transition_form": TransitionForm(auto_id="transition_%s"),
            "note_form": NoteForm(auto_id="note_%s"),
        },
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
        return services.upsert_incident(serializer.to_record(), origin="console", actor=request.user).incident
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
    return render(request, "incidents/form.html", {"form": form})


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
    return render(request, "incidents/form.html", {"form": form, "incident": incident})


@support_required
@require_POST
def incident_transition(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    form = TransitionForm(request.POST)
    if form.is_valid():
        try:
            services.transition_incident(
                incident,
                form.cleaned_data["action"],
                actor=request.user,
                message=form.cleaned_data["message"],
                at=form.cleaned_data.get("at"),
            )
            messages.success(request, _("State changed."))
        except services.IncidentConflict as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, _("Please give an action and a message."))
    return redirect("incidents:detail", pk=pk)


@support_required
@require_POST
def incident_note(request, pk):
    incident = get_object_or_404(Incident, pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.add_note(incident, actor=request.user, message=form.cleaned_data["message"])
    return redirect("incidents:detail", pk=pk)
