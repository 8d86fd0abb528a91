"""The read-replica route: read-only reports may read from a PostgreSQL replica.

Only code that asks for it reads there (``reports_db()``), never ordinary reads: a replica lags
its primary by a moment, and a page that has just written must read its own write.
"""

from django.conf import settings

REPLICA = "replica"


def reports_db() -> str:
    """The alias read-only reports (ledger, recovery, dashboards) read from."""
    return REPLICA if REPLICA in settings.DATABASES else "default"


class ReplicaRouter:
    """Nothing is written to or migrated on the replica; objects read there relate to primary ones."""

    def db_for_read(self, model, **hints):
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
