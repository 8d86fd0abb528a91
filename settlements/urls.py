"""Finance pages, mounted at /finance/ (namespace ``finance``; finance users land on ``finance:home``)."""

from django.urls import path

from settlements import views

app_name = "finance"
urlpatterns = [
    path("", views.home, name="home"),
    path("batches/<int:pk>/", views.batch_detail, name="batch"),
    path("batches/<int:pk>/<str:action>/", views.batch_action, name="batch_action"),
    path("batches/<int:pk>/export.<str:fmt>", views.batch_export, name="batch_export"),
    path("ledger/", views.ledger, name="ledger"),
    path("recovery/", views.recovery, name="recovery"),
    path("documents/", views.documents, name="documents"),
    path("documents/issue/", views.issue, name="issue"),
    path("documents/<int:pk>/download/", views.download, name="download"),
]
