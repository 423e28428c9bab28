from django.apps import AppConfig


class AgencyConfig(AppConfig):
    """What an agency's people use on its host: the dashboard, the onboarding wizard, the brand, the team, the
    audit log. No models: every table it writes is accounts' (see README, "Apps")."""

    name = "agency"
    verbose_name = "Agency pages"
