"""Counting what carriers did with each text, and the periodic check that warns the agency (and pauses a client,
when the agency chose that) before carriers act."""

import functools
import logging
from collections import defaultdict
from datetime import UTC, date, datetime

from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from accounts.models import Agency, AgencyMembership, Client
from accounts.services import ClientStateError, agency_url, brand_from_email, client_pause
from messaging import reasons
from messaging.carrier_errors import FILTERED_CODES, UNREGISTERED
from messaging.models import Message

from .models import COUNTERS, DeliverabilityDay, DeliverabilityPolicy, DeliverabilityState
from .selectors import Level, Rates, deliverability_by_client

log = logging.getLogger(__name__)


def deliverability_count(*, client_id: int, deltas: dict[str, int], at: datetime | None = None) -> None:
    """Add `deltas` (counter → amount) to a client's counters for the UTC day of `at` (now). One INSERT … ON CONFLICT: concurrent events for
    the same client and day add up exactly, in the event's own transaction."""
    unknown = set(deltas) - set(COUNTERS)
    if unknown:
        raise ValueError(f"Not a deliverability counter: {', '.join(sorted(unknown))}")
    day = (at or timezone.now()).astimezone(UTC).date()
    names = list(deltas)
    table = f'"{get_public_schema_name()}"."{DeliverabilityDay._meta.db_table}"'
    columns = ", ".join(["client_id", "date", *COUNTERS])
    values = ", ".join(["%s", "%s", *["%s"] * len(COUNTERS)])
    updates = ", ".join(f"{name} = d.{name} + EXCLUDED.{name}" for name in names)
    params: list[int | date] = [client_id, day, *[deltas.get(name, 0) for name in COUNTERS]]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} AS d ({columns}) VALUES ({values}) "
            f"ON CONFLICT (client_id, date) DO UPDATE SET {updates}",
            params,
        )


def failure_counter(*, status: str, error_code: int | None) -> str:
    """The one counter a failed text falls in: its code first (it says more than the status), then its status.
    Either carrier's spam and unregistered codes count in the same figures (messaging.carrier_errors)."""
    if error_code in FILTERED_CODES:
        return "filtered"
    if error_code in UNREGISTERED:
        return "unregistered"
    return "undelivered" if status == Message.Status.UNDELIVERED else "failed"


# --- The periodic check ---------------------------------------------------------------------------------------


def deliverability_check(*, at: datetime | None = None) -> dict[int, int]:
    """Judge every served client's last 7 days. A client that got worse since the last check is reported to its
    agency's admins (one email per agency); one over a hard limit is paused if its agency chose auto-pause.
    Returns client id → level found. Idempotent: a second run finds nothing new to say."""
    at = at or timezone.now()
    clients = list(
        Client.objects.filter(status__in=[Client.Status.LIVE, Client.Status.PAUSED]).select_related("agency")
    )
    rates = deliverability_by_client(client_ids=[c.pk for c in clients], at=at)
    states = {s.client_id: s for s in DeliverabilityState.objects.filter(client__in=clients)}
    auto_pause = set(DeliverabilityPolicy.objects.filter(auto_pause=True).values_list("agency_id", flat=True))
    worse: dict[Agency, list[tuple[Client, Rates, bool]]] = defaultdict(list)
    for client in clients:
        found = rates[client.pk]
        state = states.get(client.pk) or DeliverabilityState(client=client, level=Level.OK)
        if found.level == state.level and state.pk is not None:
            continue
        paused = False
        if found.level > state.level:
            if found.level == Level.LIMIT and client.agency_id in auto_pause:
                paused = _pause(client, found)
                state.paused_at = at if paused else state.paused_at
            worse[client.agency].append((client, found, paused))
        state.level, state.changed_at = found.level, at
        state.save()
    for agency, changes in worse.items():
        transaction.on_commit(functools.partial(_email, agency, changes))
    return {pk: r.level for pk, r in rates.items()}


def _pause(client: Client, rates: Rates) -> bool:
    if client.status != Client.Status.LIVE:
        return False
    over = "; ".join(f.text for f in rates.findings if f.level == Level.LIMIT)
    try:
        client_pause(client=client, actor=None, detail=f"Paused automatically: {over}")
    except ClientStateError:
        return False
    log.warning("client %s paused automatically: over a deliverability limit", client.slug)
    return True


def _email(agency: Agency, changes: list[tuple[Client, Rates, bool]]) -> None:
    admins = list(
        AgencyMembership.objects.filter(agency=agency, role=AgencyMembership.Role.ADMIN).values_list(
            "user__email", flat=True
        )
    )
    if not admins:
        return
    context = {
        "agency": agency,
        "brand_name": agency.display_name,
        "changes": changes,
        "url": f"{agency_url(agency)}deliverability/{agency.slug}/",
    }
    send_mail(
        subject=f"Texting health: {len(changes)} client{'s' if len(changes) != 1 else ''} need a look",
        message=render_to_string("deliverability/warning_email.txt", context),
        from_email=brand_from_email(agency),
        recipient_list=admins,
    )


def policy_set(
    *, agency: Agency, auto_pause: bool | None = None, hold_until_registered: bool | None = None
) -> DeliverabilityPolicy:
    """Change one or both of the agency's choices; the other stays as it was."""
    changes: dict[str, bool] = {}
    if auto_pause is not None:
        changes["auto_pause"] = auto_pause
    if hold_until_registered is not None:
        changes["hold_until_registered"] = hold_until_registered
    policy, _ = DeliverabilityPolicy.objects.update_or_create(agency=agency, defaults=changes)
    return policy


# What the send-time veto answers with (messaging.reasons): the inbox's clause and the reports' label.
REGISTRATION_PENDING = reasons.register(
    "registration_pending",
    text="the number's A2P 10DLC registration is not approved yet, and text-backs are held until it is",
    label="Held: registration pending",
)
