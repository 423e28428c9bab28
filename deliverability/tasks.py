"""Celery tasks: thin wrappers around the services."""

from celery import shared_task

from . import hosting, registration, services


@shared_task(time_limit=300, soft_time_limit=270, ignore_result=True)
def deliverability_check() -> int:
    """Every 15 minutes (beat): warn agencies of clients whose rates got worse; returns how many were judged."""
    return len(services.deliverability_check())


@shared_task(time_limit=600, soft_time_limit=570, ignore_result=True)
def registrations_check() -> int:
    """Every 10 minutes (beat): where each A2P 10DLC registration in review stands, and the next step when it moved;
    and where each order to host a business's own number for texting stands (on "completed", the client's texts
    move to that number). Returns how many were checked."""
    return registration.registrations_check_all() + hosting.hosting_check_all()
