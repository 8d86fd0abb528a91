"""One pattern for every state-changing action, on pages and in the API.

Each resource declares an action table: ``{name: Action(...)}``. An ``Action`` names the service
call, the form that shapes a page's input, the serializer that shapes the API's, and the message
the user gets. The runners below do the rest the same way everywhere:

* ``run_api_action`` validates the serializer and calls the service; errors go to the one DRF
  handler (``core.api.exception_handler``).
* ``run_page_action`` validates the form and calls the service; on success it says so and
  redirects (POST/redirect/GET); on any error it renders the page again, in place, with the bound
  form, so nothing the user typed or chose is lost, and the error summary takes focus.

Services check the role and the object's state themselves; the table does not replace that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from rest_framework import serializers

from core.errors import ApplicationError

Run = Callable[[Any, Any, dict[str, Any]], Any]


@dataclass(frozen=True)
class Action:
    """``run(obj, user, data)`` calls the service; ``data`` is the form's or serializer's cleaned data."""

    run: Run
    form: type[forms.Form] | None = None
    serializer: type[serializers.Serializer] | None = None
    success: Any = ""  # a message, or a function of the service's result that returns one
    summary: str = ""
    form_kwargs: dict[str, Any] = field(default_factory=dict)

    def page_form(self, name: str, data=None, files=None, **kwargs) -> forms.Form | None:
        if self.form is None:
            return None
        # Each form on a page gets its own id prefix: forms share field names, their ids must not clash.
        return self.form(data, files, auto_id=f"id_{name}_%s", **{**self.form_kwargs, **kwargs})


ActionTable = Mapping[str, Action]


def empty_forms(table: ActionTable, **kwargs) -> dict[str, forms.Form]:
    """The unbound form of every action that has one, keyed ``<name>_form`` for templates."""
    return {f"{name}_form": f for name, a in table.items() if (f := a.page_form(name, **kwargs)) is not None}


def run_api_action(table: ActionTable, name: str, obj: Any, request) -> Any:
    action = table[name]
    data: dict[str, Any] = {}
    if action.serializer is not None:
        ser = action.serializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
    return action.run(obj, request.user, data)


def run_page_action(
    request: HttpRequest,
    table: ActionTable,
    name: str,
    obj: Any,
    *,
    render_page: Callable[..., HttpResponse],
    redirect_to: str,
) -> HttpResponse:
    """POST an action from a page. ``render_page(request, obj, bound_forms=..., error=..., status=...)``
    draws the page again with the bound form when anything is wrong."""
    action = table.get(name)
    if action is None:
        raise Http404
    form = action.page_form(name, request.POST, request.FILES)
    error: ApplicationError | None = None
    if form is None or form.is_valid():
        try:
            result = action.run(obj, request.user, dict(form.cleaned_data) if form is not None else {})
        except ApplicationError as exc:
            error = exc
            if form is not None:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            message = action.success(result) if callable(action.success) else action.success
            if message:
                messages.success(request, message)
            return redirect(redirect_to)
    status = error.status if error is not None else 400
    bound = {f"{name}_form": form} if form is not None else {}
    return render_page(request, obj, bound_forms=bound, error=error, status=status, failed_action=name)


def form_error_list(forms_: Mapping[str, forms.Form | None], error: ApplicationError | None = None) -> list[dict]:
    """The page's error summary: each error with the id of the field it belongs to (for the link)."""
    items: list[dict] = []
    for form in forms_.values():
        if form is None or not form.is_bound:
            continue
        for field_name, errs in form.errors.items():
            if field_name == "__all__":
                items.extend({"message": e, "anchor": ""} for e in errs)
                continue
            bound = form[field_name]
            # One sentence to translate: "Amount: …" in English, "金额：…" (no space) in Chinese.
            items.extend(
                {
                    "message": gettext("%(label)s: %(error)s") % {"label": bound.label, "error": e},
                    "anchor": bound.auto_id,
                }
                for e in errs
            )
    if error is not None and not any(error.message in i["message"] for i in items):
        items.append({"message": error.message, "anchor": ""})
    return items
