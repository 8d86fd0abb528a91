"""The Celery application: broker from settings, tasks discovered in every app."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("claims_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _recycle_database_connections(sender=None, **kwargs):
    """Around each task, what Django does around each request: drop a connection that is broken
    or older than ``CONN_MAX_AGE`` and health-check the kept one before its next use.

    With ``CELERY_DB_REUSE_MAX`` set, Celery keeps the worker's connection between tasks instead
    of opening a new PostgreSQL backend per task. Eager tasks run inside the caller's
    transaction and are left alone.
    """
    if sender is None or getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
