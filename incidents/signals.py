"""Signals other apps listen to; incidents itself depends on nothing of ours.

``incident_changed`` is sent (inside the transaction that changed the incident) after an
incident is created, edited or moves state, with ``incident`` and ``fields`` (the names
of what changed). Receivers that start Celery tasks should use
``transaction.on_commit``.
"""

from django.dispatch import Signal

incident_changed = Signal()
