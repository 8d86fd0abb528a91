"""Page forms of the batch actions. Each cleans to the same keys as the API's serializer, so one
action table (``settlements.actions``) serves both."""

from django import forms
from django.utils.translation import gettext_lazy as _


class MessageForm(forms.Form):
    message = forms.CharField(label=_("Note"), required=False, max_length=500)


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
