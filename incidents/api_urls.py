from django.urls import path
from rest_framework.routers import SimpleRouter

from .alert_api import AlertReceiverView, AlertSourceViewSet, ReceivedAlertViewSet
from .api import IncidentViewSet, IncidentWebhookView

app_name = "incidents_api"
# The alert routes come first: the incident router's detail pattern would take their prefixes.
alert_router = SimpleRouter()
alert_router.register("alert-sources", AlertSourceViewSet, basename="alert-source")
alert_router.register("alerts", ReceivedAlertViewSet, basename="received-alert")
router = SimpleRouter()
router.register("", IncidentViewSet, basename="incident")
urlpatterns = [
    path("webhook/", IncidentWebhookView.as_view(), name="webhook"),
    path("receivers/<str:name>/", AlertReceiverView.as_view(), name="alert-receiver"),
    *alert_router.urls,
    *router.urls,
]
