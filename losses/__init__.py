"""The loss engine: which live sessions an incident hit and what each merchant lost.

Entry points (rules in the README, section "Loss engine"):

* ``engine.assess_incident(incident, *, now=None, policy_version=None) -> list[LossAssessment]`` stores
  current assessments (``policy_version``: any version's rules; default the active one);
* ``engine.estimate_incident(incident, *, now=None, policy_version=None) -> list[dict]`` the same, read-only;
* ``model_v2``: loss model v2 (net shortfall against the session's profile, placebo interval);
* ``backtest.backtest(merchant_code=None, days=28) -> dict`` placebo windows and synthetic outages;
* ``selectors.gmv_chart_series(line_or_session, incident) -> dict`` per-minute GMV vs baseline / expected;
* ``selectors.explanation(assessment) -> dict`` every figure of an assessment, each arithmetic on the ones above;
* ``policy.active_policy()`` / ``policy.publish_policy(changes, by=...)`` the versioned compensation policy.
"""
