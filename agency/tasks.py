from celery import shared_task

from .onboarding import onboarding_provision


# Registered under the name it had in accounts: a message queued before a deploy still finds its task (the
# wizard cannot retry a client stuck provisioning, only a failed one).
@shared_task(name="accounts.tasks.provision_onboarding", time_limit=300, soft_time_limit=240)
def provision_onboarding(onboarding_id: int) -> str:
    """The onboarding wizard's provisioning: the schema and the industry's templates, with progress."""
    return onboarding_provision(onboarding_id=onboarding_id)
