"""The one place where errors become API answers (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ApplicationError, StateConflict


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx answer raised by a service."""

    detail = serializers.CharField()
    code = serializers.CharField()
    field = serializers.CharField(required=False)
    errors = serializers.ListField(child=serializers.JSONField(), required=False)  # type: ignore[assignment]  # a field, not Serializer.errors
    state = serializers.CharField(required=False, help_text="The object's current state, on a 409.")


def exception_handler(exc, context):
    # django-fsm refusals that escape a service are state conflicts, never a 500.
    if isinstance(exc, TransitionNotAllowed | ConcurrentTransition):
        exc = StateConflict(str(exc) or "The state does not allow this action.")
    if isinstance(exc, DjangoValidationError):
        return Response({"detail": " ".join(exc.messages), "code": "invalid"}, status=400)
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    return drf_exception_handler(exc, context)
