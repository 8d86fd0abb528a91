"""The versioned compensation policy: read the active version, publish a new one."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max

from losses.models import CompensationPolicy

EDITABLE_FIELDS = [
    f.name
    for f in CompensationPolicy._meta.concrete_fields
    if f.editable and f.name not in {"id", "version", "is_active", "created_at"}
]


def active_policy() -> CompensationPolicy:
    """The active policy version (created with the defaults if there is none)."""
    policy = CompensationPolicy.objects.filter(is_active=True).first()
    if policy is None:
        try:
            with transaction.atomic():
                policy = CompensationPolicy.objects.select_for_update().filter(is_active=True).first()
                if policy is None:
                    last = CompensationPolicy.objects.aggregate(v=Max("version"))["v"] or 0
                    policy = CompensationPolicy.objects.create(version=last + 1, is_active=True)
        except IntegrityError:  # two first assessments at once (no global lock): the other one made it
            policy = CompensationPolicy.objects.get(is_active=True)
    return policy


def policy_version_named(version: int) -> CompensationPolicy:
    """A policy by its version number (any version, active or not: figures are reproducible)."""
    return CompensationPolicy.objects.get(version=version)


@transaction.atomic
def publish_policy(changes: dict, *, by=None, base: CompensationPolicy | None = None) -> CompensationPolicy:
    """Save ``changes`` on top of ``base`` (default: the active version) as a new active version.

    Versions are never edited in place: assessments keep pointing at the version they used.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not policy fields: {', '.join(sorted(unknown))}")
    base = base or active_policy()
    values = {name: getattr(base, name) for name in EDITABLE_FIELDS if name not in {"supersedes", "created_by"}}
    values.update(changes)
    list(CompensationPolicy.objects.select_for_update().filter(is_active=True))  # serialise publishers
    last = CompensationPolicy.objects.aggregate(v=Max("version"))["v"] or 0
    CompensationPolicy.objects.filter(is_active=True).update(is_active=False)
    policy = CompensationPolicy(version=last + 1, is_active=True, supersedes=base, created_by=by, **values)
    policy.full_clean()
    policy.save()
    return policy
