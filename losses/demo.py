"""Demo: let the demo live sessions sell less while a demo incident hit them (idempotent).

Runs after the incidents and merchants demos and before the claims demo, so the loss engine
(and the claims built on it) sees realistic drops. Sales fall to 5 % (major outage), 45 %
(partial outage) or 80 % (degraded performance) of the usual curve, recovering over 10 minutes;
one session (Silk Road's second studio during SW-20261010) sells 15 % more instead.
"""

from datetime import timedelta
from decimal import Decimal

from incidents.models import Impact, Incident, IncidentState
from merchants import demo as merchants_demo

FACTORS = {
    Impact.MAJOR_OUTAGE: Decimal("0.05"),
    Impact.PARTIAL_OUTAGE: Decimal("0.45"),
    Impact.DEGRADED_PERFORMANCE: Decimal("0.80"),
}


def seed(stdout):
    changed = 0
    incidents = (
        Incident.objects.exclude(state=IncidentState.VOIDED).select_related("service").prefetch_related("regions")
    )
    for incident in incidents.order_by("started_at", "id"):
        end = incident.resolved_at or incident.started_at + timedelta(minutes=45)
        changed += merchants_demo.apply_outage(
            incident.service.code,
            [r.code for r in incident.regions.all()],
            incident.started_at,
            end,
            FACTORS.get(incident.impact, Decimal("0.5")),
        )
    # The second studio of Silk Road was on the other CDN region of SW-20261010: buyers who could not
    # reach the main stream bought there, so it sold above its expectation (a session with no loss).
    boosted = incidents.filter(source="statuswatch", external_id="SW-20261010").first()
    if boosted is not None:
        changed += merchants_demo.apply_boost(
            merchants_demo.SECOND_STUDIO,
            boosted.started_at,
            (boosted.resolved_at or boosted.started_at) + timedelta(minutes=10),
            Decimal("1.15"),
        )
    stdout.write(f"loss demo: {changed} session minutes shaped by outages")
