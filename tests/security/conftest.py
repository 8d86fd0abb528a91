import pytest


@pytest.fixture(autouse=True)
def role_groups(db):
    """The role groups come from a data migration; a transactional test's flush removes them."""
    from django.contrib.auth.models import Group

    from accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)
