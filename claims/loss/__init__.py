"""The loss engine: which live sessions an incident hit and what each merchant lost.

Public API (rules in the README, section "Loss engine"):

* ``assess_incident(incident, *, now=None) -> list[LossAssessment]`` stores current assessments;
* ``estimate_incident(incident, *, now=None) -> list[dict]`` the same, read-only, JSON-ready;
* ``gmv_chart_series(line_or_session, incident) -> dict`` per-minute GMV vs baseline for charts;
* ``active_policy()`` / ``publish_policy(changes, by=...)`` the versioned compensation policy.
"""

from .engine import assess_incident, compute, estimate_incident, largest_remainder
from .policy import active_policy, publish_policy
from .selectors import assessment_history, current_assessments, gmv_chart_series

__all__ = [
    "active_policy",
    "assess_incident",
    "assessment_history",
    "compute",
    "current_assessments",
    "estimate_incident",
    "gmv_chart_series",
    "largest_remainder",
    "publish_policy",
]
