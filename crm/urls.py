from django.urls import path  # noqa: F401 - the contacts pages are added here

app_name = "crm"
urlpatterns: list = []
