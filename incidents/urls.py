from django.urls import path

from . import views

app_name = "incidents"
urlpatterns = [
    path("", views.incident_list, name="list"),
    path("new/", views.incident_create, name="create"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/remap/", views.alert_remap, name="alert_remap"),
    path("<int:pk>/", views.incident_detail, name="detail"),
    path("<int:pk>/edit/", views.incident_edit, name="edit"),
    path("<int:pk>/transition/", views.incident_action, {"action": "transition"}, name="transition"),
    path("<int:pk>/note/", views.incident_action, {"action": "note"}, name="note"),
]
