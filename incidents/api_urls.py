from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import IncidentViewSet, IncidentWebhookView

app_name = "incidents_api"
router = SimpleRouter()
router.register("", IncidentViewSet, basename="incident")
urlpatterns = [path("webhook/", IncidentWebhookView.as_view(), name="webhook"), *router.urls]
