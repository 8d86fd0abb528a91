"""Demo staff users: two support staff (so disputes can go to a second one) and finance."""

from django.contrib.auth.models import Group, User

PASSWORD = "demo-pass-2026"  # noqa: S105 (printed demo login)
STAFF = [
    ("support", "support", "Sam Support"),
    ("support2", "support", "Sue Second"),
    ("finance", "finance", "Fay Finance"),
]


def ensure_user(username, role, full_name="", email=None):
    first, _, last = full_name.partition(" ")
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": email or f"{username}@example.com"},
    )
    if created:
        user.set_password(PASSWORD)
        user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def seed(stdout):
    for username, role, name in STAFF:
        ensure_user(username, role, name)
    admin, created = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
    if created:
        admin.set_password(PASSWORD)
        admin.save()
