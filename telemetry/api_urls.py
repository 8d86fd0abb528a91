from django.urls import path

from .api import TelemetryCsvImport, TelemetryWebhook, TelemetryWindowList

app_name = "telemetry_api"
urlpatterns = [
    path("windows/", TelemetryWindowList.as_view(), name="windows"),
    path("windows/import/", TelemetryCsvImport.as_view(), name="import"),
    path("webhook/", TelemetryWebhook.as_view(), name="webhook"),
]
