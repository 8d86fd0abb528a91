"""Who may do what to a claim: role first, then ownership, then the separation rules.

A merchant user acts only on the claims of merchants it belongs to. Support staff act on
any claim except those of merchants they themselves belong to. Finance settles.
"""

from django.utils.translation import gettext as _

from accounts import roles
from core.errors import NotPermitted
from merchants.selectors import merchant_ids_for_user

MERCHANT_ACTIONS = {"file", "submit", "answer", "accept", "dispute", "withdraw", "upload"}
SUPPORT_ACTIONS = {
    "start_review",
    "request_info",
    "approve",
    "partially_approve",
    "reject",
    "confirm_approval",
    "bulk_approve",
    "approve_proposal",
    "upload",
}
FINANCE_ACTIONS = {"settle"}
# After a dispute, the first decider takes no part in the final decision.
FIRST_DECIDER_EXCLUDED = {"start_review", "request_info", "approve", "partially_approve", "reject", "confirm_approval"}


def is_member(user, merchant_id) -> bool:
    return merchant_id in merchant_ids_for_user(user=user)


def can_view(user, claim) -> bool:
    if roles.is_staff_role(user):
        return True
    return roles.is_merchant_user(user) and is_member(user, claim.merchant_id)


def check(user, action: str, merchant_id: int | None) -> str:
    """Raise NotPermitted unless ``user`` may do ``action`` on a claim of ``merchant_id``; return the role used."""
    if not getattr(user, "is_authenticated", False):
        raise NotPermitted(_("Sign in first."))
    user_roles = roles.roles_of(user)
    if action in MERCHANT_ACTIONS and roles.MERCHANT in user_roles and is_member(user, merchant_id):
        return roles.MERCHANT
    if action in SUPPORT_ACTIONS and roles.SUPPORT in user_roles:
        if is_member(user, merchant_id):
            raise NotPermitted(_("Staff cannot act on claims of a merchant they belong to."))
        return roles.SUPPORT
    if action in FINANCE_ACTIONS and roles.FINANCE in user_roles:
        if is_member(user, merchant_id):
            raise NotPermitted(_("Staff cannot act on claims of a merchant they belong to."))
        return roles.FINANCE
    if action in MERCHANT_ACTIONS and roles.MERCHANT in user_roles:
        raise NotPermitted(_("You can act only on your own merchant's claims."))
    raise NotPermitted(_("Your role does not allow this action."))


def allowed_actions(user, claim) -> list[str]:
    """The actions the user could take now (role, ownership and state), for buttons in the UI."""
    from django_fsm import can_proceed

    result = []
    for action in sorted(MERCHANT_ACTIONS | SUPPORT_ACTIONS | FINANCE_ACTIONS):
        if action in {"file", "bulk_approve", "approve_proposal", "upload"}:
            continue
        try:
            check(user, action, claim.merchant_id)
        except NotPermitted:
            continue
        if action in FIRST_DECIDER_EXCLUDED and claim.is_final_round and claim.first_decided_by_id == user.pk:
            continue
        if action == "approve" and not claim.has_computed_amount:
            continue  # "approve the computed amount" would grant 0.00 for a claim nothing computed
        if action == "confirm_approval":
            if claim.pending_amount is not None and claim.pending_by_id != user.pk and claim.state == "under_review":
                result.append(action)
            continue
        if can_proceed(getattr(claim, action)):
            result.append(action)
    return result
