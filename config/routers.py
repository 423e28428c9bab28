"""Which schema each table of a split app lives in.

django-tenants decides per app (SHARED_APPS → public, TENANT_APPS → every client). Some of our apps own
tables on both sides (telephony: number routing in public, calls per client), and an app in both lists gets
*all* its tables in both schemas; a client-side copy of a public table would then silently shadow the public
one on the search path. For the apps in SPLIT_APPS this router, consulted before django-tenants' own,
narrows it per model: a model named in SPLIT_APPS_PUBLIC_MODELS is created in public only, every other one in
client schemas only. For everything else it has no opinion and TenantSyncRouter decides.
"""

from typing import cast

from django.conf import settings
from django.db import connections
from django_tenants.utils import get_public_schema_name

from config.db import TenantConnection


class SplitAppsRouter:
    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if model_name is None or app_label not in settings.SPLIT_APPS:
            return None
        in_public = cast(TenantConnection, connections[db]).schema_name == get_public_schema_name()
        is_public_model = f"{app_label}.{model_name}".lower() in settings.SPLIT_APPS_PUBLIC_MODELS
        return None if in_public == is_public_model else False
