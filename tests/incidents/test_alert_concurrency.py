"""Two deliveries of the same grouped notification at the same moment (Alertmanager retrying,
or two Alertmanagers of a cluster), with the alerts in opposite orders: each alert gets one
row and one incident, nothing fails and nothing deadlocks."""

import threading

import pytest
from django.db import connection

from incidents.alert_services import receive_notification
from incidents.alerting import NotificationSerializer
from incidents.demo import seed_catalogue
from incidents.models import AlertSource, Incident, IncidentUpdate, ReceivedAlert

from .test_alert_receiver import alert, notification


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_group():
    seed_catalogue()
    source = AlertSource.objects.create(name="prom-am", token="t")
    alerts = [alert(fingerprint=f"f{i}", region=r) for i, r in enumerate(["cn-east", "cn-north", "cn-south"])]
    payloads = [notification(*alerts), notification(*reversed(alerts))]
    barrier = threading.Barrier(2)
    results = {}

    def deliver(n):
        try:
            serializer = NotificationSerializer(data=payloads[n])
            serializer.is_valid(raise_exception=True)
            barrier.wait(timeout=10)
            results[n] = receive_notification(source=source, notification=serializer.to_notification())
        except Exception as exc:  # noqa: BLE001 - any failure is what the test looks for
            results[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert all(isinstance(r, list) for r in results.values()) and len(results) == 2, results
    outcomes = sorted(o.outcome for r in results.values() for o in r)
    assert outcomes == ["created"] * 3 + ["unchanged"] * 3
    assert Incident.objects.count() == 3 and IncidentUpdate.objects.count() == 3
    assert sorted(ReceivedAlert.objects.values_list("notifications", flat=True)) == [2, 2, 2]
