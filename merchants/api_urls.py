from django.urls import path

from .api import BulkImportView

app_name = "merchants_api"
urlpatterns: list = [
    path("import/<slug:kind>/", BulkImportView.as_view(), name="import"),
]
