"""REST API: contracts and evaluations (read), credit claims (finance moves them)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.permissions import IsFinance, IsStaffRole
from core.actions import run_api_action
from core.api import ErrorSerializer

from . import actions, services
from . import serializers as s
from .models import ProviderCreditClaim, SLAContract, SLAEvaluation


class StaffReadFinanceWrite:
    """Support and finance read; only finance changes evaluations and credit claims."""

    def get_permissions(self):
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            return [IsStaffRole()]
        return [IsStaffRole(), IsFinance()]


class SLAContractViewSet(viewsets.ReadOnlyModelViewSet):
    """Every version of every contract (an amendment is a new version)."""

    lookup_value_regex = "[0-9]+"  # "abc" is a 404 from the router, never a query

    serializer_class = s.SLAContractSerializer
    permission_classes = [IsStaffRole]
    filterset_fields = ["code", "provider", "currency"]
    queryset = SLAContract.objects.select_related("provider").prefetch_related("services")


class SLAEvaluationViewSet(StaffReadFinanceWrite, viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = "[0-9]+"  # "abc" is a 404 from the router, never a query
    filterset_fields = ["contract_code", "period", "is_current", "provisional", "outdated", "contract__provider"]
    queryset = SLAEvaluation.objects.select_related("contract")

    def get_queryset(self):
        # A list row shows the figures, not the snapshot behind them (often hundreds of KB).
        return super().get_queryset().defer("details") if self.action == "list" else super().get_queryset()

    def get_serializer_class(self):
        return s.SLAEvaluationDetailSerializer if self.action != "list" else s.SLAEvaluationSerializer

    @extend_schema(request=s.CorrectionSerializer, responses=s.SLAEvaluationDetailSerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request, pk=None):
        """Replace a finalized evaluation by a new revision computed from today's data, with a reason."""
        data = s.CorrectionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        new = services.correct_evaluation(
            evaluation=self.get_object(), reason=data.validated_data["reason"], by=request.user
        )
        return Response(s.SLAEvaluationDetailSerializer(new).data, status=status.HTTP_201_CREATED)


class ProviderCreditClaimViewSet(
    StaffReadFinanceWrite, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = "[0-9]+"  # "abc" is a 404 from the router, never a query
    filterset_fields = ["state", "contract_code", "provider", "period"]
    queryset = ProviderCreditClaim.objects.select_related("provider")

    def get_serializer_class(self):
        return s.ProviderCreditClaimDetailSerializer if self.action != "list" else s.ProviderCreditClaimSerializer

    @staticmethod
    def _step(name, attribute=None):  # builds a view method from the action table, in the class body
        spec = actions.CREDIT_CLAIM[name]

        def view(self, request, pk=None):
            claim = run_api_action(actions.CREDIT_CLAIM, name, self.get_object(), request)
            return Response(s.ProviderCreditClaimDetailSerializer(claim).data)

        view.__name__ = attribute or name  # before @action: its method map refers to the function by name
        view = action(detail=True, methods=["post"], url_path=name, url_name=name)(view)
        return extend_schema(
            summary=spec.summary,
            request=spec.serializer,
            responses={200: s.ProviderCreditClaimDetailSerializer, 400: ErrorSerializer, 409: ErrorSerializer},
        )(view)

    file_claim = _step("file", "file_claim")
    acknowledge = _step("acknowledge")
    credit = _step("credit")
    reject = _step("reject")
    del _step
