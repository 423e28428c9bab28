"""The api app's pages on the platform host (and agencies' own domains), mounted by config/urls_public.py."""

app_name = "api"
urlpatterns: list = []
