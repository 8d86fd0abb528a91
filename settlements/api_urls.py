from django.urls import path

from . import api

urlpatterns = [
    path("batches/", api.BatchList.as_view(), name="finance-api-batches"),
    path("batches/<int:pk>/", api.BatchDetail.as_view(), name="finance-api-batch"),
    path("batches/<int:pk>/export.<str:fmt>", api.BatchExport.as_view(), name="finance-api-batch-export"),
    path("batches/<int:pk>/payments/", api.PaymentImportView.as_view(), name="finance-api-batch-payments"),
    path("batches/<int:pk>/<str:action>/", api.BatchAction.as_view(), name="finance-api-batch-action"),
    path("ledger/", api.Ledger.as_view(), name="finance-api-ledger"),
    path("recovery/", api.Recovery.as_view(), name="finance-api-recovery"),
    path("documents/", api.Documents.as_view(), name="finance-api-documents"),
    path("documents/<int:pk>/download/", api.DocumentDownload.as_view(), name="finance-api-document-download"),
]
