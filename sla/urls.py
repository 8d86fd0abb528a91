from django.urls import path

from . import scorecard_views, views

app_name = "sla"
urlpatterns = [
    path("", views.index, name="index"),
    path("scorecard/", scorecard_views.scorecard, name="scorecard"),
    path("scorecard/csv/", scorecard_views.scorecard_csv, name="scorecard_csv"),
    path("scorecard/pdf/", scorecard_views.scorecard_pdf, name="scorecard_pdf"),
    path("scorecard/windows/", scorecard_views.windows, name="scorecard_windows"),
    path("providers/<int:pk>/", views.provider_dashboard, name="provider"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
    path("credit-claims/<int:pk>/", views.claim_detail, name="claim"),
    path("credit-claims/<int:pk>/<slug:action>/", views.claim_action, name="claim_action"),
]
