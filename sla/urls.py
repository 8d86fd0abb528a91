from django.urls import path

from . import views

app_name = "sla"
urlpatterns = [
    path("", views.index, name="index"),
    path("providers/<int:pk>/", views.provider_dashboard, name="provider"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
]
