"""The estimate_losses command's plain-text summary."""

import pytest
from django.core.management import call_command

from tests.factories import IncidentFactory, hit_session

pytestmark = pytest.mark.django_db


def test_summary_counts_sessions_in_words(capsys, merchant, other_merchant):
    incident = IncidentFactory(external_id="EL-1")
    hit_session(incident, merchant, sid="LS-1")
    hit_session(incident, other_merchant, sid="LS-2")
    hit_session(incident, other_merchant, sid="LS-3")
    call_command("estimate_losses", "--incident", f"{incident.source}:{incident.external_id}")
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["tea"].startswith("1 session, responsibility ")
    assert lines["silk"].startswith("2 sessions, responsibility ")
