"""`make demo` twice: seed_demo runs again after someone worked in the demo (an incident resolved
in the console), and prints a short summary instead of a line per Celery task."""

import logging
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from claims.models import Claim
from incidents.models import Incident, IncidentState
from incidents.services import transition_incident


@pytest.mark.django_db
def test_seed_demo_twice_after_resolving_a_demo_incident(settings, tmp_path, caplog):
    from config.celery import app

    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "http://127.0.0.1:8123"  # what `make demo DEMO_PORT=8123` sets
    caplog.set_level(logging.INFO)
    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        first = StringIO()
        call_command("seed_demo", stdout=first)
        ongoing = Incident.objects.filter(source="statuswatch").exclude(state=IncidentState.RESOLVED).get()
        transition_incident(
            incident=ongoing, action="resolve", actor=User.objects.get(username="support"), message="Fixed."
        )
        second = StringIO()
        call_command("seed_demo", stdout=second)
    finally:
        app.conf.task_always_eager = old
    ongoing.refresh_from_db()
    assert ongoing.state == IncidentState.RESOLVED  # the demo left it as the user did
    assert "Demo data loaded." in second.getvalue()
    assert len(first.getvalue().splitlines()) < 25
    assert "http://127.0.0.1:8123/login/" in first.getvalue() and ":8000" not in first.getvalue()
    assert "claims kept" in second.getvalue() and "finance:" in second.getvalue()  # a summary line per app
    # Every demo claim's timeline reads in order (the overdue one was proposed before it was submitted).
    for claim in Claim.objects.all():
        times = list(claim.events.order_by("id").values_list("created_at", flat=True))
        assert times == sorted(times), claim.pk
    assert logging.getLogger("axes.apps").getEffectiveLevel() >= logging.WARNING  # no start-up banner
    assert not [r for r in caplog.records if r.name.startswith("celery") and r.levelno < logging.WARNING]
