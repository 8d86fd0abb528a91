"""Tell the other side: an in-portal notification row now, an email once the transaction commits.

Each e-mail is written in its recipient's language (``accounts.Preference``) and says what
happened, the amount, what to do next and where (a link to the claim page of their side).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts import roles
from accounts.models import Preference
from claims.models import ClaimNotification, notification_subject
from core.mail import send_mass_mail
from core.templatetags.money import format_money

# What the recipient should do next, by side and notification key (no entry: nothing to do).
NEXT_STEPS = {
    "merchant": {
        "propose": _("Review the proposal and submit it before %(deadline)s, or it expires."),
        "request_info": _("Answer the question on the claim page before %(deadline)s."),
        "approve": _("Accept the decision to get paid, or dispute it (once)."),
        "approve_proposal": _("Accept the decision to get paid, or dispute it (once)."),
        "partially_approve": _("Accept the decision to get paid, or dispute it (once)."),
        "reject": _("You may dispute the decision once, with your reasons and evidence."),
        "reminder": _("Act on the claim page before %(deadline)s."),
        "payment_failed": _(
            "Check your payout details on the Payout details page; "
            "the claim is paid again in the next settlement batch."
        ),
        "settle": _("Nothing to do: the payment was made."),
        "start_review": _("Nothing to do now; we will tell you when there is a decision."),
    },
    "staff": {
        "submit": _("Take the claim into review before %(due)s."),
        "answer": _("Continue the review: the merchant answered."),
        "dispute": _("A reviewer other than the first decider must take and decide the dispute."),
        "approval_requested": _("Confirm the amount or leave it for another reviewer."),
        "recomputed": _("Check the recomputed amount on the claim page."),
    },
}
CLAIM_PAGES = {"merchant": "portal:claim", "staff": "claims_console:claim"}


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


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


def _amount(claim, event):
    if event is not None and event.amount is not None:
        return event.amount
    if claim.approved_amount is not None:
        return claim.approved_amount
    return claim.claimed_amount if claim.claimed_amount is not None else claim.computed_amount


def email_for(claim, key, *, side, body="", event=None) -> tuple[str, str]:
    """(subject, text) of the e-mail about ``claim`` in the active language."""
    step = NEXT_STEPS.get(side, {}).get(key)
    context = {
        "claim": claim,
        "subject": notification_subject(key, claim),
        "amount": format_money(_amount(claim, event)),
        # A person's words as written; the system's sentence in the recipient's language.
        "message": body or (event.notice if event is not None else ""),
        "next_step": str(step) % {"deadline": _when(claim.expires_at), "due": _when(claim.due_at)} if step else "",
        "link": settings.SITE_URL + reverse(CLAIM_PAGES[side], args=[claim.pk]),
        "payout_link": settings.SITE_URL + reverse("portal:payout") if key == "payment_failed" else "",
    }
    return context["subject"], render_to_string("claims/email/notification.txt", context)


def email_later(notification_ids: list[int], key: str, *, side: str = "merchant") -> None:
    """Queue the e-mail copies of ``notification_ids`` as one task once the transaction commits:
    a surge batch has hundreds, and rendering them would hold up the next batch's proposals."""
    from claims.tasks import email_notifications

    ids = list(notification_ids)
    transaction.on_commit(lambda: email_notifications.delay(ids, key, side))


def send_emails(notification_ids: list[int], key: str, *, side: str = "merchant") -> int:
    """The e-mail of each notification, in its recipient's language, in one batch. Returns the number sent."""
    notifications = (
        ClaimNotification.objects.filter(pk__in=list(notification_ids))
        .select_related("claim__merchant", "claim__incident", "event", "recipient")
        .order_by("claim_id", "pk")
    )
    rows = [n for n in notifications if n.recipient.email]
    languages = dict(
        Preference.objects.filter(user__in=[n.recipient_id for n in rows]).values_list("user_id", "language")
    )
    messages, texts = [], {}
    for n in rows:
        language = languages.get(n.recipient_id, settings.LANGUAGE_CODE)
        if (n.claim_id, language) not in texts:
            with translation.override(language):
                texts[n.claim_id, language] = email_for(n.claim, key, side=side, body=n.body, event=n.event)
        messages.append((*texts[n.claim_id, language], settings.DEFAULT_FROM_EMAIL, [n.recipient.email]))
    return send_mass_mail(messages, fail_silently=True) if messages else 0


def notify(claim, recipients, key, event=None, body="", side="merchant"):
    with translation.override(settings.LANGUAGE_CODE):  # the record; pages translate again
        subject = notification_subject(key, claim)
    recipients = [u for u in recipients if u is not None]
    ClaimNotification.objects.bulk_create(
        [ClaimNotification(recipient=u, claim=claim, event=event, subject=subject, body=body) for u in recipients]
    )
    languages = dict(Preference.objects.filter(user__in=recipients).values_list("user_id", "language"))
    messages, texts = [], {}
    for user in recipients:
        if not user.email:
            continue
        language = languages.get(user.pk, settings.LANGUAGE_CODE)
        if language not in texts:
            with translation.override(language):
                texts[language] = email_for(claim, key, side=side, body=body, event=event)
        messages.append((*texts[language], settings.DEFAULT_FROM_EMAIL, [user.email]))
    if messages:
        transaction.on_commit(lambda: send_mass_mail(messages, fail_silently=True))


def notify_merchant(claim, key, event=None, body=""):
    notify(claim, merchant_recipients(claim), key, event, body, side="merchant")


def notify_staff(claim, key, event=None, body="", exclude=None):
    notify(claim, staff_recipients(claim, exclude=exclude), key, event, body, side="staff")


def unread_count(user) -> int:
    return ClaimNotification.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user, ids=None):
    qs = ClaimNotification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(Q(pk__in=ids))
    return qs.update(read_at=timezone.now())
