from django.urls import include, path
from rest_framework.routers import DefaultRouter

from claims.api import BulkApproveView, ClaimViewSet, NotificationViewSet

app_name = "claims_api"

router = DefaultRouter()
router.register("claims", ClaimViewSet, basename="claim")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("bulk-approve/", BulkApproveView.as_view(), name="bulk-approve"),
    path("", include(router.urls)),
]
