"""Celery tasks: thin wrappers that fetch by id and call a service."""

import logging
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from celery import shared_task
from django.conf import settings
from django.utils.timezone import now
from django_tenants.utils import tenant_context

from accounts.models import Agency, Client
from billing.selectors import agency_time_zone

from .briefings import SEND_HOURS, briefings_send
from .emails import agencies_with_people, last_month, monthly_email_send_agency, monthly_email_send_client
from .exports import export_job_run, export_jobs_expire
from .rollups import rollup_rebuild_client

log = logging.getLogger(__name__)

REPORTED_STATUSES = (Client.Status.LIVE, Client.Status.PAUSED)


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def rebuild_rollups() -> int:
    """Nightly: one rebuild task per client, so a big client neither holds up nor times out the others."""
    ids = list(Client.objects.filter(status__in=REPORTED_STATUSES).values_list("pk", flat=True))
    for client_id in ids:
        rebuild_client_rollups.delay(client_id)
    return len(ids)


@shared_task(time_limit=600, soft_time_limit=540, ignore_result=True)
def rebuild_client_rollups(client_id: int) -> int:
    client = Client.objects.filter(pk=client_id, status__in=REPORTED_STATUSES).first()
    if client is None:
        return 0
    return rollup_rebuild_client(client=client)


@shared_task(time_limit=1800, soft_time_limit=1700, ignore_result=True)
def run_export(client_id: int, job_id: int) -> str:
    """A big export. The job lives in the client's schema, entered here from the id whatever schema the task
    was sent from."""
    client = Client.objects.get(pk=client_id)
    with tenant_context(client):
        return export_job_run(client=client, job_id=job_id)


@shared_task(time_limit=600, soft_time_limit=540, ignore_result=True)
def expire_exports() -> int:
    """Hourly: every client's exports finished more than REPORT_EXPORT_RETENTION_DAYS ago lose their file
    (offboarded clients' too: their schema is kept, their files need not be)."""
    finished_before = now() - timedelta(days=settings.REPORT_EXPORT_RETENTION_DAYS)
    expired = 0
    for client in Client.objects.filter(status__in=(*REPORTED_STATUSES, Client.Status.ARCHIVED)):
        with tenant_context(client):
            expired += export_jobs_expire(finished_before=finished_before)
    return expired


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def send_monthly_reports() -> int:
    """On the 1st: last month's email for every client's owners and every agency's people, one task each."""
    clients = list(Client.objects.filter(status__in=REPORTED_STATUSES))
    for client in clients:
        send_client_monthly_report.delay(client.pk, last_month(tz=client.timezone).isoformat())
    agencies = list(agencies_with_people())
    for agency in agencies:
        send_agency_monthly_summary.delay(
            agency.pk, last_month(tz=agency_time_zone(agency=agency)).isoformat()
        )
    return len(clients) + len(agencies)


@shared_task(time_limit=300, soft_time_limit=270, ignore_result=True)
def send_client_monthly_report(client_id: int, month: str) -> int:
    client = Client.objects.select_related("agency").filter(pk=client_id).first()
    return 0 if client is None else monthly_email_send_client(client=client, month=date.fromisoformat(month))


@shared_task(time_limit=300, soft_time_limit=270, ignore_result=True)
def send_agency_monthly_summary(agency_id: int, month: str) -> int:
    agency = Agency.objects.filter(pk=agency_id).first()
    return 0 if agency is None else monthly_email_send_agency(agency=agency, month=date.fromisoformat(month))


@shared_task(time_limit=60, soft_time_limit=45, ignore_result=True)
def send_briefings() -> int:
    """Hourly: one task per client whose morning it is (reports.briefings.SEND_HOURS on its clock); each sends
    only what is due and not yet sent, so running twice, or late, sends nothing twice."""
    at = now()
    ids = [
        client.pk
        for client in Client.objects.filter(status__in=REPORTED_STATUSES).only("pk", "timezone")
        if at.astimezone(ZoneInfo(client.timezone)).hour in SEND_HOURS
    ]
    for client_id in ids:
        send_client_briefings.delay(client_id)
    return len(ids)


@shared_task(time_limit=300, soft_time_limit=270, ignore_result=True)
def send_client_briefings(client_id: int) -> int:
    client = (
        Client.objects.select_related("agency").filter(pk=client_id, status__in=REPORTED_STATUSES).first()
    )
    return 0 if client is None else briefings_send(client=client)
