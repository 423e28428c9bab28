"""The reports app's pages on the platform host (and agencies' own domains), mounted by config/urls_public.py."""

app_name = "reports"
urlpatterns: list = []
