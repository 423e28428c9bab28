"""The domain-event bus: the one way the core tells the rest of the house what happened.

The core apps declare their events once, as typed frozen classes (`telephony/events.py`, `messaging/events.py`,
`crm/events.py`), and call `publish(event)` inside the transaction that records what happened. Who hears an
event, and how, is written in one table above the apps (`config/subscribers.py`, named by the setting
`EVENT_SUBSCRIBERS`); the core imports none of the apps that listen.

Each subscription has a delivery policy, and the failure policy goes with it, decided here and nowhere else:

- `ATOMIC`: runs at once, first, in the publisher's transaction (which there must be), and its failure is the
  publisher's: the exception reaches it and its whole transaction rolls back. For a step of the publisher's own
  work that another app owns: when crm merges two contacts, telephony, messaging and inbox each re-point the rows
  they keep (a step that failed quietly would leave rows for the merge to cascade-delete).
- `IN_TRANSACTION`: runs at once, in the event's transaction and the client's schema, for what must commit with
  the event (exact counters, metered usage). The in-transaction subscribers of the events of one `publish()`
  share one savepoint; if one raises, the savepoint is rolled back and each is run again in its own, so only the
  failing one is lost (logged). The event itself always stands: a count is never worth a caller's text-back.
- `ON_COMMIT`: runs once the event's transaction has committed (queuing a task, an alert); an exception is logged.
  A rolled-back event runs nothing.
- `OUTBOX`: one row per event in `events.OutboxEvent`, written in the event's transaction, drained in batches by
  a worker (`events.tasks.outbox_drain`); each subscriber runs in its own savepoint in the drain's transaction,
  which deletes its name from the row, so it runs exactly once when it succeeds and again later when it fails.
  For everything that need not slow a webhook.

A subscription's `when(event)` is checked first: an event it does not want costs no savepoint and no outbox row.

Vetoes are hooks, not events: `ask(hook)` returns the first reason any registered veto gives, or None.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import types
import typing
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from celery import current_app
from django.conf import settings
from django.db import models, transaction

from .models import OutboxEvent

log = logging.getLogger(__name__)


class Policy(enum.Enum):
    ATOMIC = "atomic"
    IN_TRANSACTION = "in transaction"
    ON_COMMIT = "on commit"
    OUTBOX = "outbox"


@typing.dataclass_transform(frozen_default=True, kw_only_default=True)
def event(cls=None, *, name: str, public: bool = False, label: str = ""):
    """Declare a domain event: `@event(name="call.missed")` over a class with annotated fields. It becomes a
    frozen, keyword-only dataclass (unknown fields are refused), registered under its name for the outbox.
    A public event is offered to outbound webhooks under its name, with `label` as its description there; its
    payload is built by the API (api/payloads.py)."""

    def wrap(cls):
        if public and not label:
            raise ValueError(f"the public event {name!r} needs a label")
        cls = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
        cls.name = name
        cls.public = public
        cls.label = label
        if name in EVENTS and EVENTS[name] is not cls:
            raise ValueError(f"two events are named {name!r}")
        EVENTS[name] = cls
        return cls

    return wrap if cls is None else wrap(cls)


class Tenant(Protocol):
    """What the bus reads of an event's client (accounts.Client, which events sits below and does not import)."""

    pk: Any
    schema_name: str


class Event:
    """The base of every event: `client` (accounts.Client) is the business it happened at; events run in its
    schema. Subclasses are declared with `@event(name=...)`."""

    name: ClassVar[str]
    public: ClassVar[bool]
    label: ClassVar[str]
    if TYPE_CHECKING:
        # For the type checker only: every event declares its own `client` field, and `@event` makes each a
        # dataclass (a field declared here would be read by dataclasses and typing.get_type_hints at run time).
        client: Tenant
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]


EVENTS: dict[str, type[Event]] = {}


def public_events() -> list[type[Event]]:
    """The events outbound webhooks may subscribe to, in the order they were declared."""
    return [declared for declared in EVENTS.values() if declared.public]


@dataclasses.dataclass(frozen=True)
class Subscription:
    event: type[Event]
    handler: Callable[[Any], Any]
    policy: Policy
    when: Callable[[Any], bool] | None = None

    @property
    def key(self) -> str:
        """Names this subscription in outbox rows: the handler and the event (one handler may hear several)."""
        return f"{self.handler.__module__}.{self.handler.__qualname__}@{self.event.name}"


@dataclasses.dataclass(frozen=True)
class Veto:
    """A named hook that may stop something: `check(hook)` returns a reason, or None to let it go."""

    hook: type
    check: Callable[[Any], Any]


_by_event: dict[type[Event], list[Subscription]] = defaultdict(list)
_by_key: dict[str, Subscription] = {}
_vetoes: dict[type, list[Veto]] = defaultdict(list)


def install(subscriptions: Iterable[Subscription], vetoes: Iterable[Veto] = ()) -> None:
    """Replace the table (the app's start-up does it from settings.EVENT_SUBSCRIBERS; tests may do it too)."""
    _by_event.clear()
    _by_key.clear()
    _vetoes.clear()
    for subscription in subscriptions:
        if not isinstance(subscription.policy, Policy):
            raise TypeError(f"{subscription.key}: policy must be a Policy")
        if subscription.key in _by_key:
            raise ValueError(f"{subscription.key} is subscribed twice")
        _by_event[subscription.event].append(subscription)
        _by_key[subscription.key] = subscription
    for veto in vetoes:
        _vetoes[veto.hook].append(veto)


def load() -> None:
    table = import_module(settings.EVENT_SUBSCRIBERS)
    install(table.SUBSCRIPTIONS, table.VETOES)


def subscriptions() -> list[Subscription]:
    return list(_by_key.values())


def subscribers_of(event_type: type[Event]) -> list[Subscription]:
    return list(_by_event.get(event_type, ()))


def vetoes() -> list[Veto]:
    return [veto for hooked in _vetoes.values() for veto in hooked]


# --- Publishing --------------------------------------------------------------------------------------------


def publish(*events: Event) -> None:
    """Tell every subscriber of these events, each by its policy. Call it inside the transaction that records
    what happened (outside one, in-transaction subscribers run on their own and on-commit ones at once). Events
    published together (a text sent that was a text-back) share one savepoint for their in-transaction
    subscribers: two statements less than publishing them one by one."""
    in_transaction: list[tuple[Event, Subscription]] = []
    for event in events:
        wanted = [s for s in _by_event.get(type(event), ()) if s.when is None or s.when(event)]
        if not wanted:
            continue
        steps = [s for s in wanted if s.policy is Policy.ATOMIC]
        if steps:
            if not transaction.get_connection().in_atomic_block:
                raise RuntimeError(f"{event.name} has atomic subscribers: publish it inside a transaction")
            for (
                subscription
            ) in steps:  # no savepoint, no catching: a failure fails the publisher's transaction
                subscription.handler(event)
        in_transaction += [(event, s) for s in wanted if s.policy is Policy.IN_TRANSACTION]
        for subscription in wanted:
            if subscription.policy is Policy.ON_COMMIT:
                transaction.on_commit(_logged(subscription, event))
        outbox = [s.key for s in wanted if s.policy is Policy.OUTBOX]
        if outbox:
            client = event.client
            OutboxEvent.objects.create(
                client_id=client.pk,
                schema_name=client.schema_name,
                name=event.name,
                data=event_to_data(event),
                pending=outbox,
            )
            # Drained soon after commit; the beat sweep drains whatever a broker outage left behind.
            transaction.on_commit(_kick_drain)
    if in_transaction:
        _run_in_transaction(in_transaction)


def _kick_drain() -> None:
    try:
        # By name: the task module imports this one. Sent without a schema: the drain sets each row's itself.
        current_app.send_task("events.tasks.outbox_drain", retry=False)
    except Exception as exc:  # the row is safe in the database; the sweep drains it
        log.warning("could not queue the outbox drain: %s", exc)


def _run_in_transaction(handlers: list[tuple[Event, Subscription]]) -> None:
    try:
        with transaction.atomic():
            for event, subscription in handlers:
                subscription.handler(event)
        return
    except Exception:
        if len(handlers) == 1:
            _log_failure(handlers[0][1], handlers[0][0])
            return
    for event, subscription in handlers:  # find the one that failed; keep what the others wrote
        try:
            with transaction.atomic():
                subscription.handler(event)
        except Exception:
            _log_failure(subscription, event)


def _logged(subscription: Subscription, event: Event) -> Callable[[], None]:
    def run() -> None:
        try:
            subscription.handler(event)
        except Exception:
            _log_failure(subscription, event)

    return run


def _log_failure(subscription: Subscription, event: Event) -> None:
    client = getattr(event, "client", None)
    handler = f"{subscription.handler.__module__}.{subscription.handler.__qualname__}"
    log.exception(
        "subscriber %s failed on %s for client %s (%s)",
        handler,
        event.name,
        getattr(client, "pk", None),
        subscription.policy.value,
    )


def ask(hook: Any) -> Any:
    """The first reason a veto gives to stop what `hook` describes, or None."""
    for veto in _vetoes.get(type(hook), ()):
        reason = veto.check(hook)
        if reason:
            return reason
    return None


# --- Events as data (the outbox) ---------------------------------------------------------------------------


def event_to_data(event: Event) -> dict:
    """JSON-safe fields: a model instance becomes its primary key, read back in the client's schema."""
    data = {}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        if isinstance(value, models.Model):
            value = value.pk
        elif isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        data[field.name] = value
    return data


def event_from_data(name: str, data: dict, *, client) -> Event:
    """The event again, from `event_to_data`'s output, in the client's schema (the caller switched to it)."""
    cls = EVENTS[name]
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        value = data.get(field.name)
        kind = _concrete(hints[field.name])
        if field.name == "client":
            value = client
        elif value is None:
            pass
        elif isinstance(kind, type) and issubclass(kind, models.Model):
            value = kind._default_manager.get(pk=value)
        elif kind is datetime:
            value = datetime.fromisoformat(value)
        elif kind is Decimal:
            value = Decimal(value)
        elif isinstance(kind, type) and issubclass(kind, (enum.Enum, str)) and kind is not str:
            value = kind(value)  # an enum member, or a checked string such as messaging.reasons.Reason
        values[field.name] = value
    return cls(**values)


def _concrete(hint):
    """`Model | None` → Model."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint
