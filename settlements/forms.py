"""Page forms of the batch actions. Each cleans to the same keys as the API's serializer, so one
action table (``settlements.actions``) serves both."""

from django import forms
from django.utils.translation import gettext_lazy as _

from merchants.models import Merchant

from .models import DocumentKind


class MessageForm(forms.Form):
    message = forms.CharField(label=_("Note"), required=False, max_length=500)


class CancelForm(forms.Form):
    message = forms.CharField(label=_("Why cancel the batch?"), max_length=500)


class AddForm(MessageForm):
    claim = forms.TypedMultipleChoiceField(label=_("Claims"), coerce=int, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Any claim id may be posted; the service checks eligibility under lock.
        self.fields["claim"].valid_value = lambda value: str(value).isdigit()

    def clean(self):
        data = super().clean()
        data["claim_ids"] = data.pop("claim", None) or None
        return data


class RemoveForm(forms.Form):
    item = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def clean(self):
        data = super().clean()
        data["message"] = data.pop("reason", "")
        return data


class LedgerFilterForm(forms.Form):
    """The ledger's filters, the same for the page, its CSV/XLSX download and the API."""

    # A date input takes ISO dates only, whatever the page's language formats dates as.
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    status = forms.ChoiceField(
        label=_("Payment status"),
        required=False,
        choices=[("", _("All")), ("unpaid", _("Not paid yet")), ("failed", _("Payment failed")), ("paid", _("Paid"))],
    )
    merchant = forms.CharField(label=_("Merchant code"), required=False, max_length=64)
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3)

    def clean_merchant(self):
        from merchants.models import Merchant

        code = self.cleaned_data["merchant"].strip()
        if not code:
            return None
        merchant = Merchant.objects.filter(code=code).only("pk").first()
        if merchant is None:
            raise forms.ValidationError(_("No merchant has the code %(code)s."), params={"code": code})
        return merchant.pk

    def clean_currency(self):
        value = self.cleaned_data["currency"].strip().upper()
        if value and not (len(value) == 3 and value.isalpha()):
            raise forms.ValidationError(_("A currency is three letters, such as CNY."))
        return value

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The range ends before it starts."))
        return data

    def filters(self) -> dict:
        """The keyword arguments of ``exports.ledger_claims`` (after ``is_valid``)."""
        d = self.cleaned_data
        return {"status": d["status"], "merchant_id": d["merchant"], "currency": d["currency"]}


class MerchantChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.code})"


class IssueDocumentForm(forms.Form):
    """Generate a document: a claim's statement or evidence pack, or a merchant's monthly statement.

    Cleans to the API body's keys (``kind``, ``claim``, ``merchant`` as an id, ``period``, ``reason``);
    whether the claim, merchant or month fits the kind is the service's check, with the field named.
    """

    kind = forms.CharField(label=_("Document"), widget=forms.Select(choices=DocumentKind.choices))
    claim = forms.IntegerField(label=_("Claim number"), required=False, min_value=1, max_value=2**63 - 1)
    merchant = MerchantChoice(
        label=_("Merchant (monthly)"),
        queryset=Merchant.objects.order_by("name").only("pk", "code", "name"),
        required=False,
        empty_label="—",
    )
    period = forms.CharField(
        label=_("Month (monthly)"), required=False, max_length=10, widget=forms.TextInput(attrs={"type": "month"})
    )
    reason = forms.CharField(label=_("Reason (reissue)"), required=False, max_length=500)

    def clean(self):
        data = super().clean()
        merchant = data.get("merchant")
        data["merchant"] = merchant.pk if merchant is not None else None
        return data
