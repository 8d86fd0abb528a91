"""The staff queue and the claims API stay the same size and cost as claims pile up: no list of
every merchant, an incident filter probed per incident, a constant number of queries."""

import json

from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims import selectors, services
from claims.models import Claim
from merchants.models import Merchant

from .conftest import make_incident


def _claims(n, merchant, offset=0):
    made = []
    for i in range(offset, offset + n):
        incident = make_incident(f"S-{i}")
        made.append(services.propose(incident=incident, merchant=merchant, amount="10", currency="CNY"))
    Claim.objects.filter(pk__in=[c.pk for c in made]).update(state="submitted")
    return made


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_queue_costs_the_same_queries_with_more_claims_merchants_and_incidents(client, support_user, merchant):
    client.force_login(support_user)
    _claims(2, merchant)
    small, _ = _queries(client, "/console/claims/")
    small_api, _ = _queries(client, "/api/claims/claims/")
    for i in range(30):
        Merchant.objects.create(code=f"extra-{i}", name=f"Extra shop {i}")
    _claims(12, merchant, offset=2)
    large, html = _queries(client, "/console/claims/")
    large_api, _ = _queries(client, "/api/claims/claims/")
    assert (large, large_api) == (small, small_api)
    assert "Extra shop" not in html  # merchants are suggested on demand, not listed
    assert _queries(client, f"/console/claims/?merchant={merchant.code}")[0] == large


def test_merchant_filter_by_code_or_id(client, support_user, merchant, other_merchant):
    mine = _claims(1, merchant)[0]
    theirs = _claims(1, other_merchant, offset=1)[0]
    client.force_login(support_user)
    for value in (merchant.code, merchant.pk):
        html = client.get(f"/console/claims/?merchant={value}").content.decode()
        assert f"#{mine.pk}<" in html and f"#{theirs.pk}<" not in html
    html = client.get("/console/claims/?merchant=nobody").content.decode()
    assert f"#{mine.pk}<" not in html and f"#{theirs.pk}<" not in html


def test_merchant_suggestions_are_few_and_staff_only(client, support_user, merchant_user):
    for i in range(25):
        Merchant.objects.create(code=f"tea-{i:02d}", name=f"Tea shop {i}")
    Merchant.objects.create(code="silk", name="Silk road teas")
    client.force_login(support_user)
    found = json.loads(client.get("/console/claims/merchants/?q=shop").content)["results"]
    assert len(found) == 20 and found[0] == {"code": "tea-00", "name": "Tea shop 0"}
    found = json.loads(client.get("/console/claims/merchants/?q=TEA-1").content)["results"]
    assert [m["code"] for m in found] == [f"tea-{i}" for i in range(10, 20)]
    found = json.loads(client.get("/console/claims/merchants/?q=road").content)["results"]
    assert found == [{"code": "silk", "name": "Silk road teas"}]
    assert json.loads(client.get("/console/claims/merchants/?q=").content)["results"] == []
    client.force_login(merchant_user)
    assert client.get("/console/claims/merchants/?q=tea").status_code in (302, 403)


def test_incident_filter_lists_newest_incidents_with_claims_and_keeps_the_chosen_one(client, support_user, merchant):
    old, mid, new = _claims(3, merchant)
    without = make_incident("NO-CLAIMS")
    assert list(selectors.incidents_with_claims(limit=2)) == [new.incident, mid.incident]
    assert without not in selectors.incidents_with_claims()
    client.force_login(support_user)
    html = client.get(f"/console/claims/?incident={old.incident_id}").content.decode()
    assert f'<option value="{old.incident_id}" selected>' in html
