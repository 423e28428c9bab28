"""The client a webhook is for, kept in Redis: every Twilio and Telnyx webhook starts by finding its client by
the number called (or the slug in our callback URLs), and on a cache hit that costs one Redis round trip instead
of two PostgreSQL statements (the public search_path, then the row): about 1.5 ms of CPU on each of the four
webhooks of a missed call (bench/missed_call_cost.py).

Correctness rests on one generation number for every client row. Each cached entry carries the generation it was
read under, and an entry from an older generation is a miss. Any write to a client row (`save()`, `delete()`, a
queryset's `update()` / `delete()` / `bulk_update()`: accounts.models.ClientQuerySet) moves the generation on at
once and again once its transaction commits, so:
- a reader that read the row before the write committed stored it under the generation it saw first, which the
  commit's move makes stale (read the generation first, then the row: the usual order for this pattern);
- a later read in the writer's own transaction sees the write (the immediate move). (A transaction that wrote a
  client, read it here and then rolled back would leave what it read cached for up to a minute; nothing does
  both. The tests, whose transactions all roll back, forget the cache around each test.)
Writes to client rows are rare (settings pages, pausing, provisioning), so one generation for all of them costs
little. Raw SQL that writes accounts_client must call `forget()` itself (the one that does not is the
webhooks' own stamp of `last_webhook_at`, which no webhook reads). Entries expire after
`CLIENT_CACHE_SECONDS` anyway, the same minute tenant-schemas-celery already keeps a task's client for. Misses are
not cached: a number that is nobody's is asked of PostgreSQL each time, as before. With Redis down, PostgreSQL
answers and nothing is cached.

Only the client's own fields are kept (no related rows): its agency, read where needed, comes from PostgreSQL.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import caches
from django.db import transaction

if TYPE_CHECKING:
    from .models import Client

log = logging.getLogger(__name__)

GENERATION = "client-generation"


def _key(column: str, value: str) -> str:
    return f"client-by-{column}:{value}"


def _cache():
    return caches["platform"]


def cached_client(column: str, value: str, load: Callable[[], Client | None]) -> Client | None:
    """The client whose `column` is `value`: from the cache when its entry is of the current generation, else
    `load()`ed and kept."""
    seconds = settings.CLIENT_CACHE_SECONDS
    if seconds <= 0:
        return load()
    cache, key = _cache(), _key(column, value)
    try:
        found = cache.get_many([GENERATION, key])
        generation = found.get(GENERATION)
        if generation is None:
            # First use, or Redis lost it: start from a random number, so an entry that outlived the old
            # generation key cannot match the new one by chance.
            cache.add(GENERATION, secrets.randbits(48), timeout=None)
            generation = cache.get(GENERATION)
    except Exception as exc:  # Redis is down: PostgreSQL answers
        log.warning("client cache unavailable, reading PostgreSQL: %s", exc)
        return load()
    entry = found.get(key)
    if entry is not None and generation is not None and entry[0] == generation:
        return entry[1]
    client = load()
    if client is not None and generation is not None:
        client._state.fields_cache = {}  # its own fields only: related rows are read fresh where needed
        try:
            cache.set(key, (generation, client), seconds)
        except Exception as exc:
            log.warning("could not cache client %s: %s", client.pk, exc)
    return client


def _move_on() -> None:
    cache = _cache()
    try:
        try:
            cache.incr(GENERATION)
        except ValueError:  # no generation yet: nothing can be cached under one
            cache.add(GENERATION, secrets.randbits(48), timeout=None)
    except Exception as exc:
        # Redis is down; what it held (if it keeps it) lasts CLIENT_CACHE_SECONDS at most.
        log.warning("could not forget the cached clients: %s", exc)


def forget() -> None:
    """Every cached client is stale from now, and again when the current transaction commits."""
    _move_on()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_move_on)
