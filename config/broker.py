"""The Celery broker transport: kombu's Redis transport, with one crash fixed.

kombu 5.7.0 / celery 5.7.0 (the newest of each): when Redis goes away while the worker holds unacknowledged
messages (delayed text-backs, a task in flight), the consumer's recovery (celery's
``Consumer.on_connection_error_after_connected``) first ``collect()``s the connection, which drops the transport's
reference to its kombu Connection, and then ``close()``s it. Closing the channel restores the unacknowledged
messages, which needs a Redis client, whose parameters are read from that dropped reference:
``AttributeError: 'NoneType' object has no attribute 'hostname'`` in ``Channel._connparams``. An AttributeError is
not one of the transport's connection errors, so the worker stops with "Unrecoverable error" instead of
reconnecting (reproduced by tests/integration/test_faults.py).

Here the same situation raises redis's ConnectionError, which kombu ignores while closing, so the worker
reconnects. The messages it could not restore stay in Redis's "unacked" hash and are restored after the
visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS); before that the ledger sweep re-dispatches any send they
carried (messaging.services.sweep_due_sends), and the task is idempotent, so a late redelivery sends nothing twice.

Selected by CELERY_BROKER_TRANSPORT in settings; the broker URL stays redis://.
"""

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        if self.connection is None or self.connection.client is None:
            raise RedisConnectionError("the broker connection is already closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
