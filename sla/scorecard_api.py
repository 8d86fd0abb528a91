"""API of the provider scorecard and the error budgets (support and finance read)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaffRole
from incidents.models import Provider

from . import scorecard as sc
from . import selectors
from .budget import budget_for
from .models import SLAContract


class ScorecardView(APIView):
    """Per provider of ``kind`` and ``month`` (YYYY-MM, default: last month): stability, quality,
    service response, track record and 12-month trends, as on ``/console/sla/scorecard/``."""

    permission_classes = [IsStaffRole]

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=Provider.Kind.values), OpenApiParameter("month", str)],
        responses={200: dict},
    )
    def get(self, request):
        kind = request.query_params.get("kind") or Provider.Kind.RTC
        if kind not in Provider.Kind.values:
            raise ValidationError({"kind": f"one of {', '.join(Provider.Kind.values)}"})
        try:
            month = sc.parse_month(request.query_params.get("month"))
        except ValueError as exc:
            raise ValidationError({"month": str(exc)}) from exc
        return Response(
            {
                "kind": kind,
                "month": f"{month:%Y-%m}",
                "providers": [sc.card_json(card) for card in sc.scorecard(kind, month)],
            }
        )


class ErrorBudgetView(APIView):
    """The error budget of each contract's month in progress: spent, left, burn rates, projection."""

    permission_classes = [IsStaffRole]

    @extend_schema(responses={200: dict})
    def get(self, request):
        out = []
        for code in sorted(set(SLAContract.objects.values_list("code", flat=True))):
            try:
                out.append(budget_for(code).as_json())
            except selectors.ContractNotFound:
                continue
        return Response(out)
