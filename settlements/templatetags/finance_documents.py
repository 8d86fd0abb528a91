from django import template

from settlements.selectors import documents_for_claim

register = template.Library()


@register.simple_tag(takes_context=True)
def claim_documents(context, claim):
    """The documents of ``claim`` the current user may see, latest version first with history."""
    request = context.get("request")
    if request is None or claim is None:
        return []
    return documents_for_claim(user=request.user, claim=claim)


@register.simple_tag
def claim_payment_status(claim):
    """Where the claim's payment is (``settlements.selectors.payment_status``), or None before acceptance."""
    from settlements.selectors import payment_status

    return payment_status(claim=claim) if claim is not None else None
