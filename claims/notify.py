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
    User = get_user_model()
    return list(User.objects.filter(memberships__merchant_id=claim.merchant_id, is_active=True).distinct())


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
