from django.urls import path

from claims.views import console as views

app_name = "claims_console"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("merchants/", views.merchant_suggestions, name="merchant_suggestions"),
    path("bulk-approve/", views.bulk_approve, name="bulk_approve"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/", views.notification, name="notification"),
    path("<int:pk>/", views.claim_detail, name="claim"),
    path("<int:pk>/documents/", views.upload, name="upload"),
    path("<int:pk>/documents/<int:doc_pk>/", views.document, name="document"),
    path("<int:pk>/<slug:action>/", views.claim_action, name="action"),
]
