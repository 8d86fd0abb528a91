"""Admin: locked contract versions are view-only, evaluations and credit claims read-only."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from sla import services
from sla.models import ProviderCreditClaim, SLAContract

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-secret-123"))
    return client


def test_locked_contract_is_view_only_and_lists_its_versions(admin_client, make_contract, evaluated):
    locked = evaluated.contract
    amendment = make_contract(version=2, effective_from=evaluated.period.replace(year=2027), amendment_reason="New fee")
    html = admin_client.get(reverse("admin:sla_slacontract_change", args=[locked.pk])).content.decode()
    assert "Used by a finalized evaluation" in html
    assert 'name="monthly_fee"' not in html and 'name="_save"' not in html
    assert reverse("admin:sla_slacontract_change", args=[amendment.pk]) in html and "New fee" in html
    response = admin_client.post(reverse("admin:sla_slacontract_change", args=[locked.pk]), {"monthly_fee": "1"})
    assert response.status_code == 403
    assert SLAContract.objects.get(pk=locked.pk).monthly_fee == locked.monthly_fee

    html = admin_client.get(reverse("admin:sla_slacontract_change", args=[amendment.pk])).content.decode()
    assert 'name="monthly_fee"' in html and "Editable" in html
    assert admin_client.get(reverse("admin:sla_slacontract_changelist")).status_code == 200


def test_evaluations_are_read_only(admin_client, evaluated):
    assert admin_client.get(reverse("admin:sla_slaevaluation_changelist")).status_code == 200
    html = admin_client.get(reverse("admin:sla_slaevaluation_change", args=[evaluated.pk])).content.decode()
    assert 'name="credit_amount"' not in html and 'name="_save"' not in html
    assert reverse("sla:evaluation", args=[evaluated.pk]) in html
    assert admin_client.get(reverse("admin:sla_slaevaluation_add")).status_code == 403


def test_credit_claims_are_read_only_with_history(admin_client, finance_user, evaluated):
    claim = ProviderCreditClaim.objects.get()
    services.file_claim(
        claim=claim,
        by=finance_user,
        reference="ACME-T-1",
        description="Filed by e-mail",
        amount_claimed=claim.amount_claimed,
    )
    assert admin_client.get(reverse("admin:sla_providercreditclaim_changelist")).status_code == 200
    html = admin_client.get(reverse("admin:sla_providercreditclaim_change", args=[claim.pk])).content.decode()
    assert 'name="state"' not in html and 'name="_save"' not in html
    assert "Filed by e-mail" in html and "fay-finance" in html
    assert reverse("sla:claim", args=[claim.pk]) in html
    response = admin_client.post(reverse("admin:sla_providercreditclaim_delete", args=[claim.pk]), {"post": "yes"})
    assert response.status_code == 403
