"""Forms of the staff SLA pages: one per credit-claim transition, each calling ``sla.services``."""

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import ProviderCreditClaim

MESSAGE_WIDGET = forms.Textarea(attrs={"rows": 2})


class ClaimActionForm(forms.Form):
    action = ""
    label: str | Promise = ""
    button_class = "primary"

    message = forms.CharField(label=_("Message"), max_length=2000, required=False, widget=MESSAGE_WIDGET)

    def __init__(self, *args, claim: ProviderCreditClaim | None = None, **kwargs):
        # Several claims' forms share a page (the provider page): ids carry the claim.
        if claim is not None:
            kwargs.setdefault("auto_id", f"claim{claim.pk}-{self.action}-%s")
        super().__init__(*args, **kwargs)
        self.claim = claim


class FileClaimForm(ClaimActionForm):
    action = "file"
    label = _("File with the provider")

    provider_reference = forms.CharField(label=_("Provider reference"), max_length=120)
    amount_claimed = forms.DecimalField(label=_("Amount claimed"), max_digits=14, decimal_places=2, min_value=0)
    field_order = ["provider_reference", "amount_claimed", "message"]

    def __init__(self, *args, claim=None, **kwargs):
        if claim is not None:
            kwargs.setdefault("initial", {"amount_claimed": claim.amount_claimed})
        super().__init__(*args, claim=claim, **kwargs)


class AcknowledgeClaimForm(ClaimActionForm):
    action = "acknowledge"
    label = _("Record acknowledgement")

    provider_reference = forms.CharField(label=_("Provider reference"), max_length=120, required=False)
    field_order = ["provider_reference", "message"]


class CreditClaimForm(ClaimActionForm):
    action = "credit"
    label = _("Record credited")

    amount_received = forms.DecimalField(label=_("Amount received"), max_digits=14, decimal_places=2, min_value=0)
    field_order = ["amount_received", "message"]


class RejectClaimForm(ClaimActionForm):
    action = "reject"
    label = _("Record rejected")
    button_class = "danger"

    message = forms.CharField(label=_("Provider's reason"), max_length=2000, widget=MESSAGE_WIDGET)


ACTION_FORMS = {f.action: f for f in (FileClaimForm, AcknowledgeClaimForm, CreditClaimForm, RejectClaimForm)}


def action_forms(claim: ProviderCreditClaim) -> list[ClaimActionForm]:
    """Unbound forms of the transitions the claim's state allows, in workflow order."""
    available = {t.name for t in claim.get_available_state_transitions()}  # type: ignore[attr-defined]  # by FSMField
    return [form(claim=claim) for name, form in ACTION_FORMS.items() if name in available]
