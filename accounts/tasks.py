from celery import shared_task

from .models import Client
from .services import client_provision


@shared_task(time_limit=300, soft_time_limit=240)
def provision_client(client_id: int) -> str:
    client = Client.objects.get(pk=client_id)
    return client_provision(client=client).status


@shared_task(time_limit=300, soft_time_limit=240)
def provision_onboarding(onboarding_id: int) -> str:
    """The onboarding wizard's provisioning: the schema and the industry's templates, with progress."""
    from .onboarding import onboarding_provision

    return onboarding_provision(onboarding_id=onboarding_id)
