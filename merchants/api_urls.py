from django.urls import path  # noqa: F401

app_name = "merchants_api"
urlpatterns: list = []
