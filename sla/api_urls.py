from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api, scorecard_api

app_name = "sla_api"

router = DefaultRouter()
router.register("contracts", api.SLAContractViewSet, basename="contract")
router.register("evaluations", api.SLAEvaluationViewSet, basename="evaluation")
router.register("credit-claims", api.ProviderCreditClaimViewSet, basename="credit-claim")
urlpatterns = [
    path("scorecard/", scorecard_api.ScorecardView.as_view(), name="scorecard"),
    path("error-budgets/", scorecard_api.ErrorBudgetView.as_view(), name="error-budgets"),
    *router.urls,
]
