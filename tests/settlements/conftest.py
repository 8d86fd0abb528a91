"""Finance fixtures (built on tests.factories): accepted claims walked through the real workflow services."""

from datetime import UTC, datetime

import pytest

from incidents.models import Cause
from tests.factories import Claims, ServiceFactory

T0 = datetime(2026, 11, 2, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai

__all__ = ["T0", "Claims", "make_incident"]


def make_incident(external_id=None, start=T0, minutes=40, cause=Cause.PROVIDER, service_code="rtc-video"):
    """The bilingual outage of the statements (``Claims.incident``), optionally named and on another service."""
    named = {"external_id": external_id} if external_id else {}
    service = ServiceFactory(code=service_code, name="RTC video 实时视频")
    return Claims.incident(start=start, minutes=minutes, cause=cause, service=service, **named)


@pytest.fixture
def claims(db):
    return Claims()


@pytest.fixture
def finance(make_user):
    return make_user("fay-finance", "finance")
