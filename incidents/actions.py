"""An incident's actions: one table for the console and the API (``core.actions``)."""

from django.utils.translation import gettext_lazy as _

from core.actions import Action

from . import services
from .forms import NoteForm, TransitionForm
from .serializers import NoteSerializer, TransitionSerializer

INCIDENT = {
    "transition": Action(
        run=lambda i, u, d: services.transition_incident(
            incident=i, action=d["action"], actor=u, message=d["message"], at=d.get("at")
        ),
        form=TransitionForm,
        serializer=TransitionSerializer,
        success=_("State changed."),
        summary="Acknowledge, mitigate, resolve or void the incident, with a message for the timeline",
    ),
    "note": Action(
        run=lambda i, u, d: services.add_note(incident=i, actor=u, message=d["message"]),
        form=NoteForm,
        serializer=NoteSerializer,
        success=_("Note added."),
        summary="Add a note to the incident's timeline",
    ),
}
