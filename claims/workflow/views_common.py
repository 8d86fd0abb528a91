"""Helpers shared by the portal and console views."""

from django.contrib import messages
from django.shortcuts import redirect

from .errors import WorkflowError


def run_action(request, call, success, redirect_to):
    """Call a service; flash the outcome; redirect (errors keep the user on the claim page)."""
    try:
        call()
    except WorkflowError as exc:
        messages.error(request, exc.message)
        return redirect(redirect_to)
    messages.success(request, success)
    return redirect(redirect_to)


def form_errors(form) -> str:
    return "; ".join(
        f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}".strip(": ") for f, e in form.errors.items()
    )
