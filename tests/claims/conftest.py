"""Fixtures of the claim workflow tests (built on tests.factories): a resolved incident, merchants, users, a claim."""

import pytest

from tests.factories import Flow, IncidentFactory, MerchantFactory, proposed_claim


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups come from a data migration; a transactional test's flush removes them."""
    from django.contrib.auth.models import Group

    from accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture
def incident(db):
    return IncidentFactory(external_id="INC-1")


@pytest.fixture
def merchant(db):
    return MerchantFactory(code="tea", name="Tea House")


@pytest.fixture
def other_merchant(db):
    return MerchantFactory(code="silk", name="Silk Road")


@pytest.fixture
def merchant_user(make_user, merchant):
    return make_user("mia-merchant", "merchant", merchants=[merchant])


@pytest.fixture
def other_merchant_user(make_user, other_merchant):
    return make_user("otto-merchant", "merchant", merchants=[other_merchant])


@pytest.fixture
def support_user_3(make_user):
    return make_user("sid-support", "support")


@pytest.fixture
def proposed(incident, merchant, merchant_user):
    return proposed_claim(incident=incident, merchant=merchant)


@pytest.fixture
def flow(merchant_user, support_user, support_user_2):
    return Flow(merchant_user, support_user, support_user_2)
