from django.urls import path  # noqa: F401 - the inbox's pages are added here

app_name = "inbox"
urlpatterns: list = []
