"""The portal's payout details: who may change them, what is checked, how a change is recorded,
and that a claim whose payment failed is paid again in a later batch after the change."""

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import ClaimState
from core.errors import InvalidInput, NotPermitted
from core.models import SettingChange
from merchants import services
from merchants.models import Membership
from settlements import exports
from settlements.models import SettlementItem
from settlements.services import settlements as st
from tests.factories import Claims
from tests.settlements.test_failed_payment import exported_batch, payment_csv

pytestmark = pytest.mark.django_db


class _NoPayoutYet(Claims):
    """Merchants that have not saved their payout details yet (the factory's merchants have them)."""

    def merchant(self, *args, **kwargs):
        merchant = super().merchant(*args, **kwargs)
        type(merchant).objects.filter(pk=merchant.pk).update(
            payout_account_name="", payout_bank="", payout_account_number=""
        )
        merchant.refresh_from_db()
        return merchant


@pytest.fixture
def claims(db):
    return _NoPayoutYet()


def admin_of(merchant, claims):
    user = claims.user_of(merchant)
    Membership.objects.filter(user=user, merchant=merchant).update(is_admin=True)
    return user


def form(merchant, **values):
    data = {"merchant": merchant.pk}
    data.update({f"m{merchant.pk}-{k}": v for k, v in values.items()})
    return data


def test_an_administrator_changes_them_and_the_change_is_recorded_masked(claims):
    merchant = claims.merchant()
    user = admin_of(merchant, claims)
    services.update_payout_details(
        merchant=merchant, by=user, account_name="Tea House Ltd", bank="ICBC", account_number="6222 0000 1111 2345"
    )
    merchant.refresh_from_db()
    assert (merchant.payout_account_name, merchant.payout_bank, merchant.payout_account_number) == (
        "Tea House Ltd",
        "ICBC",
        "6222000011112345",
    )
    services.update_payout_details(
        merchant=merchant, by=user, account_name="Tea House Ltd", bank="ICBC", account_number="6222-0000-9999-8888"
    )
    changes = SettingChange.objects.filter(object_id=str(merchant.pk), field="payout_account_number")
    assert [(c.old_value, c.new_value, c.changed_by) for c in changes] == [
        ("•••• 2345", "•••• 8888", user),
        ("", "•••• 2345", user),
    ]
    assert not SettingChange.objects.filter(new_value__contains="62220000").exists()
    # An empty number keeps the stored one; only the changed field is recorded.
    services.update_payout_details(merchant=merchant, by=user, account_name="Tea House Ltd", bank="CCB")
    merchant.refresh_from_db()
    assert merchant.payout_account_number == "6222000099998888" and merchant.payout_bank == "CCB"
    assert SettingChange.objects.filter(object_id=str(merchant.pk)).count() == 5


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("6222 0000-1111 2345", "6222000011112345"),
        ("123456", "123456"),
        ("de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("GB82-WEST-1234-5698-7654-32", "GB82WEST12345698765432"),
    ],
)
def test_digits_and_ibans_are_accepted_and_normalised(claims, typed, stored):
    merchant = claims.merchant()
    services.update_payout_details(
        merchant=merchant, by=admin_of(merchant, claims), account_name="Tea", bank="ICBC", account_number=typed
    )
    merchant.refresh_from_db()
    assert merchant.payout_account_number == stored


def test_only_an_administrator_of_that_merchant_may(claims, make_user):
    support_user = make_user("sid-support", "support")
    merchant, other = claims.merchant(), claims.merchant("silk", "Silk Road")
    member = claims.user_of(merchant)  # a member, not an administrator
    outsider = admin_of(other, claims)
    for user in (member, outsider, support_user):
        with pytest.raises(NotPermitted):
            services.update_payout_details(
                merchant=merchant, by=user, account_name="X", bank="Y", account_number="123456"
            )
    merchant.refresh_from_db()
    assert merchant.payout_account_number == ""


@pytest.mark.parametrize(
    "values, field",
    [
        ({"account_name": " ", "bank": "ICBC", "account_number": "12345678"}, "account_name"),
        ({"account_name": "Tea", "bank": "", "account_number": "12345678"}, "bank"),
        ({"account_name": "Tea", "bank": "ICBC", "account_number": "12 3"}, "account_number"),
        ({"account_name": "Tea", "bank": "ICBC", "account_number": "1234567!"}, "account_number"),
        ({"account_name": "Tea", "bank": "ICBC", "account_number": "12AB-34"}, "account_number"),  # letters, no IBAN
        ({"account_name": "Tea", "bank": "ICBC", "account_number": "ABCDEF123456"}, "account_number"),
        ({"account_name": "Tea", "bank": "ICBC", "account_number": "DE89 37"}, "account_number"),  # IBAN too short
        ({"account_name": "Tea", "bank": "ICBC", "account_number": ""}, "account_number"),  # none stored yet
    ],
)
def test_bad_details_are_refused_on_their_field(claims, values, field):
    merchant = claims.merchant()
    with pytest.raises(InvalidInput) as refused:
        services.update_payout_details(merchant=merchant, by=admin_of(merchant, claims), **values)
    assert refused.value.field == field


def test_the_page_shows_masked_details_and_keeps_a_refused_answer(claims):
    merchant = claims.merchant()
    user = admin_of(merchant, claims)
    client = Client()
    client.force_login(user)
    url = reverse("portal:payout")
    response = client.post(url, form(merchant, account_name="Tea House", bank="ICBC", account_number="12"))
    html = response.content.decode()
    assert response.status_code == 400 and "Error:" in html and 'value="Tea House"' in html
    response = client.post(url, form(merchant, account_name="Tea House", bank="ICBC", account_number="62220000111122"))
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "•••• 1122" in html and "62220000111122" not in html
    assert f"{user.username} · Payout account number: — → •••• 1122" in html
    # Another merchant's id is not found; a member who is not an administrator sees no form.
    other = claims.merchant("silk", "Silk Road")
    assert client.post(url, form(other, account_name="A", bank="B", account_number="12345678")).status_code == 404
    Membership.objects.filter(user=user).update(is_admin=False)
    html = client.get(url).content.decode()
    assert "payout-form" not in html and "Only an administrator" in html
    assert client.post(url, form(merchant, account_name="A", bank="B", account_number="12345678")).status_code == 400


def test_failed_payment_is_paid_in_a_later_batch_after_the_merchant_updates_details(claims, make_user):
    finance = make_user("fin-finance", "finance")
    claim = claims.accepted("1590.68")
    user = admin_of(claim.merchant, claims)
    # A batch is locked only for a merchant with payout details: here an account the bank refuses.
    services.update_payout_details(
        merchant=claim.merchant, by=user, account_name="Tea House", bank="ICBC", account_number="6222000000000001"
    )
    first = exported_batch(finance)
    st.import_payments(batch=first, by=finance, data=payment_csv([f"{claim.pk},1590.68,CNY,failed,,invalid account"]))
    client = Client()
    client.force_login(user)
    page = client.get(reverse("portal:claim", args=[claim.pk])).content.decode()
    assert f'href="{reverse("portal:payout")}" id="payout-link"' in page
    inbox = client.get(reverse("portal:notifications")).content.decode()
    assert 'class="payout-link"' in inbox
    response = client.post(
        reverse("portal:payout"),
        form(claim.merchant, account_name="Tea House Ltd", bank="ICBC", account_number="6222000011112345"),
    )
    assert response.status_code == 302
    second = st.create_batch(by=finance)
    added = st.add_claims(batch=second, by=finance)
    assert [i.claim_id for i in added] == [claim.pk]
    st.lock(batch=second, by=finance)
    # The new batch's payment file pays the account saved now; the failed one keeps what it sent.
    rows = list(exports.batch_rows(second))
    payout = [rows[0].index(c) for c in ("payout_account_name", "payout_bank", "payout_account_number")]
    assert [rows[1][i] for i in payout] == ["Tea House Ltd", "ICBC", "6222000011112345"]
    first_rows = list(exports.batch_rows(first))
    assert [first_rows[1][i] for i in payout] == ["Tea House", "ICBC", "6222000000000001"]
    second = st.mark_exported(batch=second, by=finance, sha256="d" * 64)
    st.import_payments(batch=second, by=finance, data=payment_csv([f"{claim.pk},1590.68,CNY,paid,BANK-2,"]))
    claim.refresh_from_db()
    assert claim.state == ClaimState.SETTLED and claim.payment_reference == "BANK-2"
    assert list(SettlementItem.objects.filter(claim=claim).values_list("status", flat=True).order_by("pk")) == [
        "failed",
        "paid",
    ]


def test_chinese_error_summary_and_history_use_a_full_width_colon(claims):
    merchant = claims.merchant()
    user = admin_of(merchant, claims)
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "zh-hans"
    url = reverse("portal:payout")
    html = client.post(url, form(merchant, account_name="Tea", bank="ICBC", account_number="12")).content.decode()
    assert "账号：账号为 6 至 34 位数字" in html
    client.post(url, form(merchant, account_name="Tea", bank="ICBC", account_number="62220000111122"))
    assert "收款账号：— → •••• 1122" in client.get(url).content.decode()
