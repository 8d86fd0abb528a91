"""Signals other apps listen to; incidents itself depends on nothing of ours.

``incident_changed`` is sent (inside the transaction that changed the incident) after an
incident is created, edited or moves state, with ``incident`` and ``fields`` (the names
of what changed). An edit or state change also sends ``previous``: the incident's
``service_id``, ``started_at`` and ``resolved_at`` before it (so that receivers can reach
what the incident no longer belongs to). Receivers that start Celery tasks should use
``transaction.on_commit``.
"""

from django.dispatch import Signal

incident_changed = Signal()
