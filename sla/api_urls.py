from django.urls import path  # noqa: F401

app_name = "sla_api"
urlpatterns: list = []
