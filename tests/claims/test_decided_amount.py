"""After the decision the claim page leads with what is paid; the computed figure is a secondary
line only where it differs, and the breakdown calls its figure the computed compensation."""

import re

import pytest
from django.urls import reverse

from claims import services
from claims.models import Claim
from claims.recompute import sync_incident_claims

from .conftest import hit, make_incident

pytestmark = pytest.mark.django_db


def facts(html: str) -> str:
    block = re.search(r'<dl class="facts">(.*?)</dl>', html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block))


def test_accepted_partial_approval_shows_the_amount_to_be_paid_first(client, merchant, merchant_user, flow):
    incident = make_incident("DEC-1")
    hit(incident, merchant, sid="LS-DEC-1", before="2500", during="10")
    sync_incident_claims(incident)
    claim = Claim.objects.get(incident=incident)
    computed = claim.computed_amount
    claim = services.accept(claim=flow.partially_approved(claim, amount="100.00"), by=merchant_user)
    client.force_login(merchant_user)
    html = client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    text = facts(html)
    assert re.search(r"Amount to be paid 100\.00 CNY", text)
    assert f"Computed amount {computed:,.2f} CNY" in text
    assert text.index("Amount to be paid") < text.index("Computed amount")
    assert "Computed compensation" in html  # the breakdown's figure is not what is paid


def test_computed_line_is_left_out_when_it_equals_the_decided_amount(client, merchant, merchant_user, flow):
    incident = make_incident("DEC-2")
    hit(incident, merchant, sid="LS-DEC-2", before="2500", during="10")
    sync_incident_claims(incident)
    claim = services.accept(claim=flow.approved(Claim.objects.get(incident=incident)), by=merchant_user)
    client.force_login(merchant_user)
    text = facts(client.get(reverse("portal:claim", args=[claim.pk])).content.decode())
    assert "Amount to be paid" in text and "Computed amount" not in text


def test_undecided_claim_still_shows_the_computed_amount(client, merchant, merchant_user, proposed):
    client.force_login(merchant_user)
    text = facts(client.get(reverse("portal:claim", args=[proposed.pk])).content.decode())
    assert "Computed amount 1,200.00 CNY" in text and "Amount to be paid" not in text
