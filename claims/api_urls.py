from django.urls import path  # noqa: F401

app_name = "claims_api"
urlpatterns: list = []
