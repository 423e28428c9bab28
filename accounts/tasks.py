from celery import shared_task

from .models import Client
from .services import client_provision


@shared_task(time_limit=300, soft_time_limit=240)
def provision_client(client_id: int) -> str:
    client = Client.objects.get(pk=client_id)
    return client_provision(client=client).status
