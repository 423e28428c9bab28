"""A worker proves that it still takes tasks off the broker, and reconnects (or, failing that, exits to be
restarted) when it does not.

Celery 5.7 / kombu 5.7 on Redis can come back from a lost broker connection with the worker's event loop running
and its consumer taking nothing off its queues, silently, until someone restarts it (celery/celery#8030, #8091,
#10205; it happens when the connection is lost several times within seconds, as in
tests/integration/test_faults.py's five restarts in a minute). A heartbeat written from the event loop's timer
cannot see that: the loop runs. So the worker probes itself: every HEARTBEAT_SECONDS its event loop publishes a
no-op task (`probe`) to the worker's own queue (Celery's worker-direct queue, `<hostname>.dq2`, which only this
worker consumes), and the heartbeat /healthz and the container healthcheck read is written when the consumer
*receives* it. A probe not received within WORKER_STALL_SECONDS, while the worker had a free slot to take it, is
a stalled consumer: the loop then raises a broker connection error, which makes Celery drop the connection and
build a new one exactly as after a real loss (in the process, with nothing lost: unacknowledged messages are
restored by the transport). If the next probe is not received either, the worker logs why and exits, and its
supervisor (`restart: unless-stopped`, scripts/demo_supervisor.py, tests/stack.py) starts a fresh one; the ledger
sweep and acks_late cover whatever it held.

`Liveness` is the decision, with a clock that tests can turn; config.celery_app wires it into the worker.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

PROBE_TASK = "config.liveness.probe"


class Verdict(enum.Enum):
    OK = "ok"
    RECONNECT = "reconnect"  # the consumer has stalled: make Celery reconnect it
    EXIT = "exit"  # it stalled again after reconnecting: let the supervisor start a fresh worker


@dataclass
class Liveness:
    stall_after: float
    clock: Callable[[], float] = time.monotonic
    awaiting_since: float | None = None  # when the oldest probe not yet received was published
    reconnected_at: float | None = None  # when a stall made us reconnect, until a probe is received again

    def published(self) -> None:
        if self.awaiting_since is None:
            self.awaiting_since = self.clock()

    def publish_failed(self) -> None:
        """The broker refused the probe: it is down, the consumer is waiting for it like everyone else, and a
        stall cannot be told from the outage. Judge again from the next probe it takes."""
        self.awaiting_since = None

    def busy(self) -> None:
        """Every slot the worker may hold is taken: the consumer rightly fetches nothing, probes included."""
        self.awaiting_since = None

    def received(self) -> None:
        self.awaiting_since = None
        self.reconnected_at = None

    def verdict(self) -> Verdict:
        if self.awaiting_since is None or self.clock() - self.awaiting_since < self.stall_after:
            return Verdict.OK
        return Verdict.RECONNECT if self.reconnected_at is None else Verdict.EXIT

    def reconnecting(self) -> None:
        """A reconnect was asked for: the next probe, published after it, decides whether it helped."""
        self.reconnected_at = self.clock()
        self.awaiting_since = None
