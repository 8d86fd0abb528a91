"""Admin registrations of the claims app: the loss engine's (``claims.loss.admin``) and the
claim workflow's (``claims.workflow.admin``, read-only)."""

from claims.loss import admin as loss_admin  # noqa: F401
from claims.workflow import admin as workflow_admin  # noqa: F401
