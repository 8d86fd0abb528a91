from rest_framework.routers import DefaultRouter

from . import api

app_name = "sla_api"

router = DefaultRouter()
router.register("contracts", api.SLAContractViewSet, basename="contract")
router.register("evaluations", api.SLAEvaluationViewSet, basename="evaluation")
router.register("credit-claims", api.ProviderCreditClaimViewSet, basename="credit-claim")
urlpatterns = router.urls
