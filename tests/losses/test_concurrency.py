"""Two overlapping incidents assessed at the same time still compensate a minute once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from losses import engine
from losses.models import LossAssessment
from losses.policy import active_policy

from .conftest import MIN, T0, Factory
from .test_engine import standard_session

pytestmark = pytest.mark.usefixtures("v1_active")  # loss model v1's rules


@pytest.mark.django_db(transaction=True)
def test_concurrent_assessments_of_overlapping_incidents_do_not_share_minutes(world, monkeypatch):
    f = Factory(world)
    standard_session(f, f.merchant())  # T0-60 .. T0+60
    first = f.incident(T0, T0 + 20 * MIN)  # window [T0, T0+30)
    second = f.incident(T0 + 10 * MIN, T0 + 40 * MIN)  # window [T0+10, T0+50)
    computed, proceed = threading.Event(), threading.Event()
    real_compute = engine.compute

    def slow_compute(incident, **kwargs):
        result = real_compute(incident, **kwargs)
        if incident.pk == first.pk:  # hold the first assessment open, not yet committed
            computed.set()
            proceed.wait(10)
        return result

    monkeypatch.setattr(engine, "compute", slow_compute)
    errors = []

    def assess(incident, now):
        try:
            engine.assess_incident(incident, now=now)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    one = threading.Thread(target=assess, args=(first, T0 + timedelta(hours=1)))
    two = threading.Thread(target=assess, args=(second, T0 + timedelta(hours=2)))
    one.start()
    assert computed.wait(10)
    two.start()
    two.join(1.5)  # without serialisation the second finishes here, blind to the first
    proceed.set()
    one.join(10)
    two.join(10)
    assert not errors
    line = LossAssessment.objects.get(incident=second, is_current=True).lines.get()
    assert (line.affected_minutes, line.excluded_minutes) == (20, 20)


@pytest.mark.django_db(transaction=True)
def test_incidents_on_disjoint_merchants_assess_at_the_same_time(world, monkeypatch):
    """No global lock: while one assessment is held open, another on other merchants completes."""
    f = Factory(world)
    east, west = f.merchant("east"), f.merchant("west")
    standard_session(f, east, "E1", region="cn-east")
    standard_session(f, west, "W1", region="cn-north")
    first = f.incident(T0, T0 + 20 * MIN, regions=("cn-east",))
    second = f.incident(T0, T0 + 20 * MIN, regions=("cn-north",))
    active_policy()  # as the data migration leaves it: a policy exists before any assessment
    computed, proceed = threading.Event(), threading.Event()
    real_compute = engine.compute

    def held_compute(incident, **kwargs):
        result = real_compute(incident, **kwargs)
        if incident.pk == first.pk:  # hold the first assessment open, its merchant locked
            computed.set()
            proceed.wait(20)
        return result

    monkeypatch.setattr(engine, "compute", held_compute)
    errors, finished = [], {}

    def assess(incident):
        try:
            engine.assess_incident(incident, now=T0 + timedelta(hours=1))
            finished[incident.pk] = not proceed.is_set()  # done while the first was still open?
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    one = threading.Thread(target=assess, args=(first,))
    two = threading.Thread(target=assess, args=(second,))
    one.start()
    assert computed.wait(20)
    two.start()
    two.join(15)  # with one global lock the second waits here until the first commits
    concurrent = not two.is_alive()
    proceed.set()
    one.join(20)
    two.join(20)
    assert not errors
    assert concurrent and finished == {second.pk: True, first.pk: False}
    assert LossAssessment.objects.get(incident=second, is_current=True).merchant == west
    assert LossAssessment.objects.get(incident=first, is_current=True).merchant == east
