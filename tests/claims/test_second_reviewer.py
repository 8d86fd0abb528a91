"""The first decider of a disputed claim is told why there is nothing to do and who may decide;
the queue marks disputed claims that need a second reviewer."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_first_decider_sees_why_and_who(client, proposed, flow, support_user, support_user_2, support_user_3):
    claim = flow.disputed(proposed)
    client.force_login(support_user)
    html = client.get(reverse("claims_console:claim", args=[claim.pk])).content.decode()
    note = html[html.index('id="second-reviewer-needed"') :].split("</p>")[0]
    assert "a second reviewer must decide this dispute" in note
    assert support_user_2.username in note and support_user_3.username in note
    assert support_user.username not in note
    assert "Take into review" not in html
    queue = client.get(reverse("claims_console:queue")).content.decode()
    row = queue[queue.index(f">#{claim.pk}<") :].split("</tr>")[0]
    assert "dispute: another reviewer decides" in row

    client.force_login(support_user_2)
    html = client.get(reverse("claims_console:claim", args=[claim.pk])).content.decode()
    assert 'id="second-reviewer-needed"' not in html and "Take into review" in html
    queue = client.get(reverse("claims_console:queue")).content.decode()
    assert "dispute: second reviewer" in queue[queue.index(f">#{claim.pk}<") :].split("</tr>")[0]


def test_deciding_a_dispute_says_the_decision_is_final(client, proposed, flow, support_user_2):
    """A disputed claim cannot be disputed again: the confirmations say so instead of promising a dispute."""
    from claims import services

    claim = services.start_review(claim=flow.disputed(proposed), by=support_user_2)
    client.force_login(support_user_2)
    html = client.get(reverse("claims_console:claim", args=[claim.pk])).content.decode()
    for form in ("reject-form", "approve-form"):
        tag = html[html.index(f'id="{form}"') :].split(">", 1)[0]
        assert "This decides the dispute: the decision is final" in tag, form
        assert "only a dispute can reopen it" not in tag
