from django.urls import path

from . import views

app_name = "sla"
urlpatterns = [
    path("", views.index, name="index"),
    path("providers/<int:pk>/", views.provider_dashboard, name="provider"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("credit-claims/<int:pk>/", views.claim_detail, name="claim"),
    path("credit-claims/<int:pk>/<slug:action>/", views.claim_action, name="claim_action"),
]
