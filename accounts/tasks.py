from celery import shared_task

from .domains import domain_verify, domains_pending
from .models import Client
from .services import client_provision


@shared_task(time_limit=300, soft_time_limit=240)
def provision_client(client_id: int) -> str:
    client = Client.objects.get(pk=client_id)
    return client_provision(client=client).status


@shared_task(time_limit=60, soft_time_limit=45)
def verify_custom_domain(agency_id: int) -> bool:
    """Check one agency's pending domain now (the brand page's "Check now")."""
    return domain_verify(agency_id=agency_id)


@shared_task(time_limit=600, soft_time_limit=540)
def verify_pending_domains() -> int:
    """Beat: check every pending domain, so a record added without pressing "Check now" is found too."""
    return sum(domain_verify(agency_id=agency_id) for agency_id in domains_pending())
