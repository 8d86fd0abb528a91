"""Fixtures of the claim workflow tests (built on tests.factories): a resolved incident, merchants, users, a claim."""

from datetime import timedelta

import pytest

from tests.factories import (
    MIN,
    PDF,
    PNG,
    Flow,
    IncidentFactory,
    MerchantFactory,
    hit_session,
    pdf_upload,
    png_upload,
    proposed_claim,
)

# The short names these tests import; the factories do the work.
__all__ = ["PDF", "PNG", "Flow", "hit", "make_incident", "pdf_upload", "png_upload"]
hit = hit_session


def make_incident(external_id="INC-1", resolved_ago=timedelta(days=1), duration=timedelta(minutes=45)):
    return IncidentFactory(external_id=external_id, resolved_ago=resolved_ago, minutes=duration / MIN)


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups come from a data migration; a transactional test's flush removes them."""
    from django.contrib.auth.models import Group

    from accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)


@pytest.fixture
def incident(db):
    return make_incident()


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
