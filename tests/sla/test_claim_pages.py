"""Finance moves provider credit claims from the staff SLA pages; support only reads."""

from decimal import Decimal

import pytest
from django.urls import reverse

from sla import services
from sla.models import CreditClaimState, ProviderCreditClaim

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(evaluated):
    return ProviderCreditClaim.objects.get(evaluation=evaluated)


def act(client, claim, action, data, next_url=""):
    if next_url:
        data = {**data, "next": next_url}
    return client.post(reverse("sla:claim_action", args=[claim.pk, action]), data, follow=True)


def history(claim):
    return list(claim.events.order_by("at", "id"))


def test_finance_walks_a_claim_to_credited(client, finance_user, claim):
    client.force_login(finance_user)
    dashboard = reverse("sla:provider", args=[claim.provider_id])
    html = client.get(dashboard).content.decode()
    assert f'action="{reverse("sla:claim_action", args=[claim.pk, "file"])}"' in html
    assert 'name="amount_claimed"' in html and 'value="20000.00"' in html

    response = act(
        client,
        claim,
        "file",
        {"provider_reference": "ACME-T-881", "amount_claimed": "20000.00", "message": "Sent by e-mail"},
        next_url=dashboard,
    )
    assert response.redirect_chain[-1][0] == dashboard
    assert "is now Filed" in response.content.decode()
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.FILED and claim.provider_reference == "ACME-T-881"

    evaluation_page = reverse("sla:evaluation", args=[claim.evaluation_id])
    response = act(
        client, claim, "acknowledge", {"provider_reference": "", "message": "Ticket opened"}, evaluation_page
    )
    assert response.redirect_chain[-1][0] == evaluation_page
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.ACKNOWLEDGED and claim.provider_reference == "ACME-T-881"

    response = act(client, claim, "credit", {"amount_received": "19500", "message": "Credit note CN-12"})
    assert response.redirect_chain[-1][0] == reverse("sla:claim", args=[claim.pk])
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.CREDITED and claim.amount_received == Decimal("19500.00")
    # Closed: the 500.00 the provider did not credit is written off, nothing is still due.
    assert claim.outstanding == Decimal("0.00") and claim.credit_figures.written_off == Decimal("500.00")

    logs = history(claim)
    assert [(log.action, log.actor_id, log.message) for log in logs] == [
        ("file", finance_user.pk, "Sent by e-mail"),
        ("acknowledge", finance_user.pk, "Ticket opened"),
        ("credit", finance_user.pk, "Credit note CN-12"),
    ]
    page = response.content.decode()
    assert "Sent by e-mail" in page and "Credit note CN-12" in page and finance_user.username in page
    assert 'class="claim-action"' not in page  # closed: no step left


def test_finance_records_a_rejection_with_the_providers_reason(client, finance_user, claim):
    services.file_claim(claim=claim, by=finance_user, reference="ACME-T-2", amount_claimed=claim.amount_claimed)
    services.acknowledge_claim(claim=claim, by=finance_user)
    client.force_login(finance_user)
    html = client.get(reverse("sla:claim", args=[claim.pk])).content.decode()
    assert 'data-action="credit"' in html and 'data-action="reject"' in html

    response = act(client, claim, "reject", {"message": ""})
    html = response.content.decode()
    # Shown again in place: the error summary names the field; nothing was recorded.
    assert response.status_code == 400 and 'role="alert"' in html and "Provider&#x27;s reason" in html
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.ACKNOWLEDGED

    act(client, claim, "reject", {"message": "Outage was force majeure per clause 9"})
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.REJECTED and claim.rejection_reason.startswith("Outage was force")
    assert claim.amount_received == Decimal("0.00")
    assert history(claim)[-1].message == "Outage was force majeure per clause 9"


def test_file_refuses_a_stale_amount_and_a_missing_reference(client, finance_user, claim):
    client.force_login(finance_user)
    response = act(client, claim, "file", {"provider_reference": "R-1", "amount_claimed": "15000.00"})
    assert "The amount claimed is now 20000.00 CNY" in response.content.decode()
    response = act(client, claim, "file", {"provider_reference": "", "amount_claimed": "20000.00"})
    assert response.status_code == 400
    assert "Provider reference: This field is required." in response.content.decode()
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.DUE and not history(claim)


def test_step_not_allowed_by_the_state_is_refused(client, finance_user, claim):
    client.force_login(finance_user)
    response = act(client, claim, "credit", {"amount_received": "1.00"})
    assert "does not allow this step" in response.content.decode()
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.DUE
    assert client.post(reverse("sla:claim_action", args=[claim.pk, "delete"])).status_code == 404


def test_next_must_stay_on_this_site(client, finance_user, claim):
    client.force_login(finance_user)
    response = client.post(
        reverse("sla:claim_action", args=[claim.pk, "file"]),
        {"provider_reference": "R", "amount_claimed": "20000.00", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response.url == reverse("sla:claim", args=[claim.pk])


@pytest.mark.parametrize("role", ["support", "merchant"])
@pytest.mark.parametrize(
    "action,data",
    [
        ("file", {"provider_reference": "R", "amount_claimed": "20000.00"}),
        ("acknowledge", {"message": "x"}),
        ("credit", {"amount_received": "1.00"}),
        ("reject", {"message": "no"}),
    ],
)
def test_support_and_merchant_cannot_move_claims(client, make_user, claim, role, action, data):
    client.force_login(make_user(f"u-{role}", role))
    assert client.post(reverse("sla:claim_action", args=[claim.pk, action]), data).status_code == 403
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.DUE and not history(claim)


def test_support_reads_the_claim_without_forms(client, support_user, finance_user, claim):
    services.file_claim(
        claim=claim,
        by=finance_user,
        reference="ACME-T-9",
        description="Filed via portal",
        amount_claimed=claim.amount_claimed,
    )
    client.force_login(support_user)
    for url in (
        reverse("sla:claim", args=[claim.pk]),
        reverse("sla:evaluation", args=[claim.evaluation_id]),
        reverse("sla:provider", args=[claim.provider_id]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert 'class="claim-action"' not in response.content.decode()
    html = client.get(reverse("sla:claim", args=[claim.pk])).content.decode()
    assert "Filed via portal" in html and finance_user.username in html and "ACME-T-9" in html


def test_merchant_cannot_read_the_claim(client, make_user, claim):
    client.force_login(make_user("mia", "merchant"))
    assert client.get(reverse("sla:claim", args=[claim.pk])).status_code == 403


def test_get_on_an_action_is_not_allowed(client, finance_user, claim):
    client.force_login(finance_user)
    assert client.get(reverse("sla:claim_action", args=[claim.pk, "file"])).status_code == 405


def test_the_filing_service_names_a_blank_reference_as_an_input_error(finance_user, claim):
    """Through the one error model (a 400 naming the field wherever it is called), never a 500."""
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        services.file_claim(claim=claim, by=finance_user, reference="  ", amount_claimed=claim.amount_claimed)
    assert exc.value.field == "reference"
    claim.refresh_from_db()
    assert claim.state == CreditClaimState.DUE
