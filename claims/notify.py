"""Tell the other side: an in-portal notification row now, an email once the transaction commits."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Q
from django.utils import translation

from accounts import roles
from claims.models import ClaimNotification, notification_subject


def merchant_recipients(claim):
    return merchant_recipients_by_merchant([claim.merchant_id]).get(claim.merchant_id, [])


def merchant_recipients_by_merchant(merchant_ids) -> dict[int, list]:
    """The active users of each merchant, in one query for any number of merchants (a surge
    proposes to thousands at once; one query per merchant was most of its statements)."""
    from merchants.models import Membership

    by_merchant: dict[int, list] = {}
    rows = (
        Membership.objects.filter(merchant_id__in=list(merchant_ids), user__is_active=True)
        .select_related("user")
        .order_by("merchant_id", "user_id")
    )
    for membership in rows:
        by_merchant.setdefault(membership.merchant_id, []).append(membership.user)
    return by_merchant


def staff_recipients(claim, exclude=None):
    """The assignee if there is one, else every support user not belonging to the claim's merchant."""
    User = get_user_model()
    if claim.assignee_id and claim.assignee_id != getattr(exclude, "pk", None):
        return list(User.objects.filter(pk=claim.assignee_id, is_active=True))
    qs = User.objects.filter(groups__name=roles.SUPPORT, is_active=True).exclude(
        memberships__merchant_id=claim.merchant_id
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs.distinct())


def notify_many(items, key) -> int:
    """One notification per recipient for each ``(claim, recipients, event, body)``, in one insert;
    the emails go out in one batch once the transaction commits. Returns the rows created."""
    rows, messages = [], []
    with translation.override(settings.LANGUAGE_CODE):
        for claim, recipients, event, body in items:
            subject = notification_subject(key, claim)
            for user in recipients:
                rows.append(ClaimNotification(recipient=user, claim=claim, event=event, subject=subject, body=body))
                if user.email:
                    messages.append((subject, body or subject, settings.DEFAULT_FROM_EMAIL, [user.email]))
    ClaimNotification.objects.bulk_create(rows, batch_size=2000)
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))
    return len(rows)


def notify(claim, recipients, key, event=None, body=""):
    with translation.override(settings.LANGUAGE_CODE):  # the record and the email; pages translate again
        subject = notification_subject(key, claim)
    recipients = [u for u in recipients if u is not None]
    ClaimNotification.objects.bulk_create(
        [ClaimNotification(recipient=u, claim=claim, event=event, subject=subject, body=body) for u in recipients]
    )
    messages = [(subject, body or subject, settings.DEFAULT_FROM_EMAIL, [u.email]) for u in recipients if u.email]
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def notify_merchant(claim, key, event=None, body=""):
    notify(claim, merchant_recipients(claim), key, event, body)


def notify_staff(claim, key, event=None, body="", exclude=None):
    notify(claim, staff_recipients(claim, exclude=exclude), key, event, body)


def unread_count(user) -> int:
    return ClaimNotification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user, ids=None):
    from django.utils import timezone

    qs = ClaimNotification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(Q(pk__in=ids))
    return qs.update(read_at=timezone.now())
