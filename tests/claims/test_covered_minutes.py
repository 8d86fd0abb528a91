"""An incident whose minutes were already paid under an overlapping incident says so on the
portal home, links the claim that covered them, and does not invite a duplicate claim."""

import pytest
from django.urls import reverse

from claims.models import Claim
from claims.recompute import sync_incident_claims
from claims.selectors import covering_claims
from losses.models import LossAssessment

from .conftest import hit, make_incident

pytestmark = pytest.mark.django_db


def test_zero_estimate_names_the_claim_that_covered_it(client, merchant, merchant_user):
    first = make_incident("OV-1")
    hit(first, merchant, sid="LS-OV")
    sync_incident_claims(first)
    covering = Claim.objects.get(incident=first)
    second = make_incident("OV-2")  # same service, region and times: the same minutes
    sync_incident_claims(second)
    zero = LossAssessment.objects.get(incident=second, is_current=True)
    assert zero.compensation == 0 and zero.lines.get().excluded_minutes > 0
    assert not Claim.objects.filter(incident=second).exists()
    assert covering_claims(assessment=zero) == [covering]
    assert covering_claims(assessment=LossAssessment.objects.get(incident=first, is_current=True)) == []

    client.force_login(merchant_user)
    html = client.get(reverse("portal:home")).content.decode()
    row = html[html.index("Video outage OV-2") :].split("</tr>")[0]
    assert "already compensated" in row
    assert reverse("portal:claim", args=[covering.pk]) in row
    assert reverse("portal:file", args=[second.pk]) not in row
