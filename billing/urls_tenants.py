"""The billing app's pages on the client's host, mounted by config/urls_tenants.py."""

app_name = "billing"
urlpatterns: list = []
