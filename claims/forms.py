"""Forms of the portal and the console (the services validate again; these shape the input)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from claims.models import (
    APPROVE_REASONS,
    DISPUTE_REASONS,
    INFO_REQUEST_REASONS,
    PARTIAL_APPROVAL_REASONS,
    REJECT_REASONS,
)

from . import config


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.csv"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _choices(codes):
    return [(c.value, c.label) for c in codes]


class MessageForm(forms.Form):
    message = forms.CharField(label=_("Message (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AnswerForm(forms.Form):
    message = forms.CharField(label=_("Your answer"), widget=forms.Textarea(attrs={"rows": 3}))
    documents = MultipleFileField(label=_("Documents (PDF, PNG, JPEG, CSV; 10 MB each)"), required=False)


class DisputeForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=_choices(DISPUTE_REASONS))
    statement = forms.CharField(label=_("Statement"), widget=forms.Textarea(attrs={"rows": 3}))
    documents = MultipleFileField(label=_("Documents (PDF, PNG, JPEG, CSV; 10 MB each)"), required=False)


class FileClaimForm(forms.Form):
    merchant = forms.ChoiceField(label=_("Merchant"))
    claimed_amount = forms.DecimalField(label=_("Amount claimed"), max_digits=14, decimal_places=2, min_value=0.01)
    session_reference = forms.CharField(label=_("Live session (id or time)"), max_length=200)
    statement = forms.CharField(label=_("What happened"), widget=forms.Textarea(attrs={"rows": 4}))
    documents = MultipleFileField(label=_("Evidence, at least one file (PDF, PNG, JPEG, CSV; 10 MB each)"))

    def __init__(self, *args, merchants=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merchant"].choices = [(m.pk, m.name) for m in merchants]


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Add a document (PDF, PNG, JPEG, CSV; 10 MB)"))


class InfoRequestForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=_choices(INFO_REQUEST_REASONS))
    message = forms.CharField(label=_("What do you need?"), widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    """A decision's reason (from that decision's own list) and its message to the merchant."""

    reasons: list = APPROVE_REASONS
    # No preselected reason: a decision must not go out with a reason nobody chose.
    reason = forms.ChoiceField(label=_("Reason"))
    message = forms.CharField(label=_("Message to the merchant"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", _("Choose a reason"))] + _choices(self.reasons)


class RejectForm(DecisionForm):
    reasons = REJECT_REASONS


class PartialDecisionForm(DecisionForm):
    reasons = PARTIAL_APPROVAL_REASONS
    amount = forms.DecimalField(label=_("Approved amount"), max_digits=14, decimal_places=2, min_value=0)


class BulkApproveForm(forms.Form):
    incident = forms.IntegerField(widget=forms.HiddenInput)
    threshold = forms.DecimalField(
        label=_("Below"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        initial=lambda: config.get("BULK_APPROVAL_THRESHOLD"),
    )
    message = forms.CharField(label=_("Message"), required=False)


class SettleForm(forms.Form):
    payment_reference = forms.CharField(label=_("Payment reference"), max_length=120)


class QueueFilterForm(forms.Form):
    """The staff queue's filters; a value that cannot be one (a NUL byte, no number) is a 400."""

    # Labelled as on the queue page: a bad value is named by its label on the error page.
    state = forms.CharField(label=_("State"), required=False, max_length=30)
    incident = forms.IntegerField(label=_("Incident"), required=False, min_value=1, max_value=2**63 - 1)
    merchant = forms.CharField(label=_("Merchant"), required=False, max_length=60)
    overdue = forms.CharField(label=_("Overdue"), required=False, max_length=5)
    q = forms.CharField(label=_("Search"), required=False, max_length=100)

    def filters(self) -> dict:
        d = self.cleaned_data
        return {
            "q": d["q"].strip(),
            "state": d["state"] or None,
            "incident": d["incident"],
            "merchant": d["merchant"] or None,
            "overdue": d["overdue"] == "1",
        }


class PayoutDetailsForm(forms.Form):
    """A merchant's payout account; the number may stay empty to keep the stored one."""

    account_name = forms.CharField(label=_("Account holder"), max_length=200)
    bank = forms.CharField(label=_("Bank"), max_length=200)
    account_number = forms.CharField(
        label=_("Account number"),
        max_length=60,
        required=False,
        help_text=_("Leave empty to keep the current number."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
