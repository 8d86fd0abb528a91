"""The claim workflow (services, selectors, policy, views, API) built on ``claims.models_workflow``."""
