"""Admin registrations of the claims app. The loss engine's live in ``claims.loss.admin``."""

from claims.loss import admin as loss_admin  # noqa: F401
