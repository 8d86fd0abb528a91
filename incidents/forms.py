from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Cause, Impact, Region, Service


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class IncidentForm(forms.Form):
    """The console's incident form; validation of the record itself is the serializer's."""

    title = forms.CharField(label=_("Title"), max_length=255)
    service = forms.ModelChoiceField(label=_("Service"), queryset=Service.objects.select_related("provider"))
    regions = forms.ModelMultipleChoiceField(label=_("Regions"), queryset=Region.objects.all())
    impact = forms.ChoiceField(label=_("Impact"), choices=Impact.choices)
    cause = forms.ChoiceField(label=_("Cause"), choices=Cause.choices, initial=Cause.UNKNOWN)
    started_at = forms.DateTimeField(label=_("Started at"), widget=DateTimeLocalInput())
    detected_at = forms.DateTimeField(label=_("Detected at"), widget=DateTimeLocalInput(), required=False)
    message = forms.CharField(
        label=_("Message for the timeline"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    # What a person types is an outage that has begun: a start in the future (beyond clock skew)
    # is a typo, and such an incident could be neither resolved nor voided before that time.
    FUTURE_TOLERANCE = timedelta(minutes=5)

    def clean(self):
        data = super().clean()
        latest = timezone.now() + self.FUTURE_TOLERANCE
        for name in ("started_at", "detected_at"):
            if data.get(name) and data[name] > latest:
                self.add_error(name, _("must not be in the future"))
        return data

    def record_data(self, *, source, external_id, incident=None):
        d = self.cleaned_data
        data = {
            "source": source,
            "external_id": external_id,
            "title": d["title"],
            "service": d["service"].code,
            "regions": [r.code for r in d["regions"]],
            "impact": d["impact"],
            "cause": d["cause"],
            "started_at": d["started_at"].isoformat(),
            "detected_at": (d.get("detected_at") or d["started_at"]).isoformat(),
            "message": d.get("message") or "",
        }
        if incident is not None:  # an edit keeps the state and its times
            for name in ("acknowledged_at", "mitigated_at", "resolved_at"):
                value = getattr(incident, name)
                data[name] = value.isoformat() if value else None
            if incident.state == "voided":
                data["status"] = "voided"
        return data


class TransitionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Action"),
        choices=[
            ("acknowledge", _("Acknowledge")),
            ("mitigate", _("Mitigate")),
            ("resolve", _("Resolve")),
            ("void", _("Void (false alarm)")),
        ],
    )
    at = forms.DateTimeField(label=_("When (empty = now)"), widget=DateTimeLocalInput(), required=False)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    message = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}))
