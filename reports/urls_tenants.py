"""The reports app's pages on the client's host, mounted by config/urls_tenants.py."""

app_name = "reports"
urlpatterns: list = []
