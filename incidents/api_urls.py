app_name = "incidents_api"
urlpatterns: list = []
