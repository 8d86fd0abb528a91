"""The queue: one search box (claim number, merchant, incident reference), incident filter options
that tell incidents apart (reference and date), bulk approval offered without filtering first."""

import pytest
from django.urls import reverse

from claims import services
from claims.models import Claim

from .conftest import make_incident

pytestmark = pytest.mark.django_db


def rows(html):
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return body.count("<tr")


def test_search_box_finds_by_number_merchant_and_reference(
    client, merchant, other_merchant, merchant_user, other_merchant_user, support_user
):
    first = make_incident("SW-20261003")
    second = make_incident("SW-20261107")
    a = services.submit(
        claim=services.propose(incident=first, merchant=merchant, amount=10, currency="CNY"), by=merchant_user
    )
    b = services.submit(
        claim=services.propose(incident=second, merchant=other_merchant, amount=20, currency="CNY"),
        by=other_merchant_user,
    )
    client.force_login(support_user)
    queue = reverse("claims_console:queue")

    def found(q):
        html = client.get(queue, {"q": q}).content.decode()
        return {c.pk for c in (a, b) if f">#{c.pk}<" in html}

    assert found(f"#{b.pk}") == {b.pk}
    assert found(f"C-{a.pk:06d}") == {a.pk}
    assert found("silk") == {b.pk}
    assert found("SW-20261003") == {a.pk}
    assert found("Video outage") == {a.pk, b.pk}
    assert found("nothing like this") == set()
    assert found(f"{first.source}:SW-20261003") == {a.pk}  # the key as the exports print it
    # A search looks at decided claims too (the queue alone shows open ones).
    services.withdraw(claim=a, by=merchant_user)
    assert found(f"#{a.pk}") == {a.pk}
    assert f">#{a.pk}<" not in client.get(queue).content.decode()
    html = client.get(queue).content.decode()
    assert "SW-20261003 · " in html and "SW-20261107 · " in html  # the incident filter tells them apart


def test_bulk_approval_without_filtering_first(client, merchant, support_user):
    incident = make_incident("SW-BULK")
    claim = services.propose(incident=incident, merchant=merchant, amount=10, currency="CNY")
    client.force_login(support_user)
    html = client.get(reverse("claims_console:queue")).content.decode()
    bulk = html[html.index('id="bulk"') :]
    assert f'<option value="{incident.pk}">SW-BULK · ' in bulk and "(1 proposal)" in bulk
    client.post(
        reverse("claims_console:bulk_approve"), {"incident": incident.pk, "threshold": "100.00", "message": "OK"}
    )
    assert Claim.objects.get(pk=claim.pk).state == "approved"
