from django.urls import path

from claims.views import portal as views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("claims/", views.claim_list, name="claims"),
    path("claims/<int:pk>/", views.claim_detail, name="claim"),
    path("claims/<int:pk>/documents/", views.upload, name="upload"),
    path("claims/<int:pk>/documents/<int:doc_pk>/", views.document, name="document"),
    path("claims/<int:pk>/<slug:action>/", views.claim_action, name="action"),
    path("incidents/<int:incident_pk>/file/", views.file_claim, name="file"),
    path("payout/", views.payout_details, name="payout"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/", views.notification, name="notification"),
]
