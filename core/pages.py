"""What list pages share: bad filters become the one error model.

A list page validates its query string with a form (or a django-filter ``FilterSet``); when a value
cannot be used, the view raises the ``InvalidInput`` built here and the page error net
(``core.middleware.ApplicationErrorMiddleware``) answers 400 naming each filter that was wrong.
"""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.utils.translation import gettext as _

from core.errors import InvalidInput


def invalid_filters(form: forms.Form) -> InvalidInput:
    """The form's errors as one ``InvalidInput``: ``field`` is the first bad filter, ``errors`` all of them."""
    return filter_errors(form.errors, labels={name: field.label for name, field in form.fields.items()})


def filter_errors(errors: Mapping[str, Any], *, labels: Mapping[str, Any] | None = None) -> InvalidInput:
    """``errors`` (``{filter: [message, ...]}``, as a form or a ``FilterSet`` gives them) as one ``InvalidInput``."""
    labels = labels or {}
    lines: list[str] = []
    for name, messages in errors.items():
        label = labels.get(name) or name
        lines.extend(f"{label}: {message}" if name != "__all__" else str(message) for message in messages)
    first = next((name for name in errors if name != "__all__"), None)
    return InvalidInput(_("Some of what was sent cannot be used:"), code="bad_filter", field=first, errors=lines)
