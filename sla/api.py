"""REST API: contracts and evaluations (read), credit claims (finance moves them)."""

from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.permissions import IsFinance, IsStaffRole

from . import serializers as s
from . import services
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
        try:
            new = services.correct_evaluation(self.get_object(), data.validated_data["reason"], by=request.user)
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(s.SLAEvaluationDetailSerializer(new).data, status=status.HTTP_201_CREATED)


class ProviderCreditClaimViewSet(
    StaffReadFinanceWrite, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    lookup_value_regex = "[0-9]+"  # "abc" is a 404 from the router, never a query
    filterset_fields = ["state", "contract_code", "provider", "period"]
    queryset = ProviderCreditClaim.objects.select_related("provider")

    def get_serializer_class(self):
        return s.ProviderCreditClaimDetailSerializer if self.action != "list" else s.ProviderCreditClaimSerializer

    def _move(self, request, serializer_class, run):
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            claim = run(self.get_object(), data.validated_data)
        except TransitionNotAllowed as exc:
            raise ValidationError(
                {"state": _("not allowed from '%(state)s'") % {"state": self.get_object().state}}
            ) from exc
        except ValueError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return Response(s.ProviderCreditClaimDetailSerializer(claim).data)

    @extend_schema(request=s.CreditClaimFilingSerializer, responses=s.ProviderCreditClaimDetailSerializer)
    @action(detail=True, methods=["post"], url_path="file")
    def file_claim(self, request, pk=None):
        return self._move(
            request,
            s.CreditClaimFilingSerializer,
            lambda c, d: services.file_claim(
                c, request.user, d["provider_reference"], d["description"], amount_claimed=d["amount_claimed"]
            ),
        )

    @extend_schema(request=s.FileSerializer, responses=s.ProviderCreditClaimDetailSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._move(
            request,
            s.FileSerializer,
            lambda c, d: services.acknowledge_claim(c, request.user, d["provider_reference"], d["description"]),
        )

    @extend_schema(request=s.CreditSerializer, responses=s.ProviderCreditClaimDetailSerializer)
    @action(detail=True, methods=["post"])
    def credit(self, request, pk=None):
        return self._move(
            request,
            s.CreditSerializer,
            lambda c, d: services.credit_claim(c, request.user, d["amount_received"], d["description"]),
        )

    @extend_schema(request=s.RejectSerializer, responses=s.ProviderCreditClaimDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._move(request, s.RejectSerializer, lambda c, d: services.reject_claim(c, request.user, d["reason"]))
