"""Public domain events, turned into outbound webhook deliveries. Subscribed through the outbox for every public
event (config/subscribers.py): the delivery rows are written by a worker draining it, not in the webhook that
recorded the event, and an event that rolls back never reaches the outbox. `has_endpoints` keeps a client
without any endpoint from writing an outbox row at all (the platform cache knows, without a query)."""

from events.bus import Event

from .payloads import payload_for
from .services import client_has_webhook_endpoints, webhook_endpoints_for, webhook_event_emit


def has_endpoints(event) -> bool:
    return client_has_webhook_endpoints(client=event.client)


def on_public_event(event: Event) -> None:
    endpoints = webhook_endpoints_for(client=event.client, event=event.name)
    if endpoints:
        webhook_event_emit(
            client=event.client, event=event.name, data=payload_for(event), endpoints=endpoints
        )
