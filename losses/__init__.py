"""The loss engine: which live sessions an incident hit and what each merchant lost.

Entry points (rules in the README, section "Loss engine"):

* ``engine.assess_incident(incident, *, now=None) -> list[LossAssessment]`` stores current assessments;
* ``engine.estimate_incident(incident, *, now=None) -> list[dict]`` the same, read-only, JSON-ready;
* ``selectors.gmv_chart_series(line_or_session, incident) -> dict`` per-minute GMV vs baseline for charts;
* ``policy.active_policy()`` / ``policy.publish_policy(changes, by=...)`` the versioned compensation policy.
"""
