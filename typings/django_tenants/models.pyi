# The two abstract models of django-tenants that accounts.models builds on. django-tenants ships no types, so
# without these its models are Any to mypy, and django-stubs' plugin cannot see Client and Domain as models
# (their columns would be untyped). Only what the project uses is declared: add a method here when code calls
# one. The rest of the package stays Any (the ignore_missing_imports override in pyproject.toml).
from typing import Any, ClassVar

from django.db import models

class TenantMixin(models.Model):
    auto_drop_schema: ClassVar[bool]
    auto_create_schema: ClassVar[bool]
    schema_name = models.CharField(max_length=63, unique=True, db_index=True)

    class Meta:
        abstract = True

class DomainMixin(models.Model):
    domain = models.CharField(max_length=253, unique=True, db_index=True)
    # A ForeignKey to settings.TENANT_MODEL (accounts.Client), a model a stub cannot name. The plugin still
    # knows the column (tenant_id) and the reverse manager (client.domains) from Django's app registry.
    tenant: Any
    is_primary = models.BooleanField(default=True, db_index=True)

    class Meta:
        abstract = True
