from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Agencies, clients and people"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .reauth import on_user_logged_in  # in ready(): reauth imports models, not loaded when apps.py is

        user_logged_in.connect(on_user_logged_in, dispatch_uid="accounts.reauth")
