"""Finance fixtures (built on tests.factories): accepted claims walked through the real workflow services."""

from datetime import UTC, datetime

import pytest

from tests.factories import Claims

T0 = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai


@pytest.fixture
def claims(db):
    return Claims()


@pytest.fixture
def finance(make_user):
    return make_user("fay-finance", "finance")
