"""Django's Redis cache backend, keeping one redis.Redis client per connection pool.

Django's own backend makes a new redis.Redis for every cache call, and redis-py fills a table of some 170
response callbacks in each: about a third of a millisecond of CPU per call, several times on every webhook.
redis.Redis is safe to share between threads (the pool hands each command its own connection)."""

from collections.abc import Callable

import redis
from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    # Django's own (private, so left out of its type stubs), which this relies on.
    _client: type[redis.Redis]
    _get_connection_pool: Callable[[bool], redis.ConnectionPool]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
