"""Audit trails and the setting history refuse UPDATE and DELETE in PostgreSQL itself."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from claims.models import ClaimEvent
from core.models import SettingChange
from incidents import services as incident_services
from incidents.models import IncidentUpdate, WebhookSource
from merchants.models import Merchant
from settlements.models import SettlementEvent
from settlements.services import settlements as st
from sla.models import SLAContract
from tests.settlements.conftest import Claims, make_incident

pytestmark = pytest.mark.django_db


def refused_by_database(sql, params):
    with pytest.raises(DatabaseError) as exc, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert "append-only" in str(exc.value)


@pytest.fixture
def trails(make_user):
    claims = Claims(make_user)
    finance = make_user("fay-finance", "finance")
    claim = claims.accepted("10.00")
    batch = st.create_batch(by=finance)
    st.add_claims(batch=batch, by=finance)
    incident = make_incident()
    incident_services.add_note(incident=incident, actor=claims.support, message="checked")
    SettingChange.objects.create(
        model="merchants.merchant", object_id="1", object_repr="x", field="margin_rate", changed_by=finance
    )
    return {
        ClaimEvent: ClaimEvent.objects.filter(claim=claim).first().pk,
        SettlementEvent: SettlementEvent.objects.filter(batch=batch).first().pk,
        IncidentUpdate: IncidentUpdate.objects.filter(incident=incident).first().pk,
        SettingChange: SettingChange.objects.get().pk,
    }


@pytest.mark.parametrize("model", [ClaimEvent, SettlementEvent, IncidentUpdate, SettingChange])
def test_raw_sql_update_and_delete_are_refused(trails, model):
    table, pk = model._meta.db_table, trails[model]
    column = {ClaimEvent: "message", SettlementEvent: "message", IncidentUpdate: "message"}.get(model, "new_value")
    refused_by_database(f'UPDATE "{table}" SET "{column}" = %s WHERE id = %s', ["rewritten", pk])  # noqa: S608
    refused_by_database(f'DELETE FROM "{table}" WHERE id = %s', [pk])  # noqa: S608
    assert model.objects.filter(pk=pk).exists()


def test_incident_timeline_is_append_only_in_python_too(trails):
    update = IncidentUpdate.objects.get(pk=trails[IncidentUpdate])
    with pytest.raises(ValidationError):
        IncidentUpdate.objects.filter(pk=update.pk).update(message="x")
    with pytest.raises(ValidationError):
        update.delete()
    # Deleting the incident no longer takes its timeline with it.
    with pytest.raises(ProtectedError):
        update.incident.delete()


# --- Who changed which money-affecting setting in the admin ---------------------------------


TARGETS = '[{"credit_percent": "5", "impact": "major_outage", "max_minutes": 30}]'


@pytest.fixture
def admin_client(client, db):
    user = User.objects.create_superuser("root", "root@example.com", "pw-secret-123")
    client.force_login(user)
    client.user = user
    return client


def test_merchant_margin_rate_change_in_admin_is_recorded(admin_client):
    merchant = Merchant.objects.create(code="tea", name="Tea House", currency="CNY", margin_rate=Decimal("0.30"))
    response = admin_client.post(
        f"/admin/merchants/merchant/{merchant.pk}/change/",
        {
            "code": "tea",
            "name": "Tea House",
            "timezone": "Asia/Shanghai",
            "margin_rate": "0.45",
            "currency": "CNY",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    change = SettingChange.objects.get(model="merchants.merchant", object_id=str(merchant.pk))
    assert (change.field, change.old_value, change.new_value) == ("margin_rate", "0.3000", "0.4500")
    assert change.changed_by == admin_client.user
    page = admin_client.get(f"/admin/merchants/merchant/{merchant.pk}/change/").content.decode()
    assert "0.3000 → 0.4500" in page


def test_webhook_secret_change_is_recorded_without_the_secret(admin_client):
    source = WebhookSource.objects.create(name="statuswatch", secret="old-secret-value")
    response = admin_client.post(
        f"/admin/incidents/webhooksource/{source.pk}/change/",
        {"name": "statuswatch", "secret": "new-secret-value", "is_active": "on"},
    )
    assert response.status_code == 302
    change = SettingChange.objects.get(model="incidents.webhooksource")
    assert change.field == "secret" and change.old_value == change.new_value == "(hidden)"
    assert not SettingChange.objects.filter(new_value__contains="secret-value").exists()


def test_contract_term_change_before_finalization_is_recorded(admin_client):
    contract = SLAContract.objects.create(
        code="RTC",
        provider=make_incident().service.provider,
        currency="CNY",
        monthly_fee=Decimal("1000.00"),
        effective_from="2026-01-01",
        availability_target=Decimal("99.9"),
        partial_outage_weight=Decimal("0.5"),
        degraded_weight=Decimal("0.1"),
    )
    contract.services.add(make_incident().service)
    url = f"/admin/sla/slacontract/{contract.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update(
        monthly_fee="1200.00", credit_tiers='[{"below": "99.9", "credit_percent": "10"}]', recovery_targets=TARGETS
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    changes = {c.field: (c.old_value, c.new_value) for c in SettingChange.objects.filter(model="sla.slacontract")}
    assert changes == {
        "monthly_fee": ("1000.00", "1200.00"),
        "credit_tiers": ("[]", '[{"below": "99.9", "credit_percent": "10"}]'),
        "recovery_targets": ("[]", TARGETS),
    }
