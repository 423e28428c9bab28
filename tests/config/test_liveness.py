"""The worker's verdict on its own consumer (config/liveness.py), on a clock the test turns."""

from config.liveness import Liveness, Verdict


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_probe_not_received_in_time_asks_for_a_reconnect_then_for_an_exit():
    clock = Clock()
    liveness = Liveness(stall_after=4, clock=clock)
    liveness.published()
    clock.now += 3
    liveness.published()  # a second probe does not restart the wait
    assert liveness.verdict() is Verdict.OK
    clock.now += 1
    assert liveness.verdict() is Verdict.RECONNECT
    liveness.reconnecting()
    assert liveness.verdict() is Verdict.OK  # judged again from the next probe
    liveness.published()
    clock.now += 4
    assert liveness.verdict() is Verdict.EXIT


def test_a_received_probe_clears_the_stall_and_the_reconnect():
    clock = Clock()
    liveness = Liveness(stall_after=4, clock=clock)
    liveness.published()
    clock.now += 5
    liveness.reconnecting()
    liveness.published()
    liveness.received()
    clock.now += 10
    assert liveness.verdict() is Verdict.OK
    liveness.published()
    clock.now += 4
    assert liveness.verdict() is Verdict.RECONNECT  # a new stall starts over with a reconnect, not an exit


def test_a_broker_outage_or_a_full_worker_is_not_a_stall():
    clock = Clock()
    liveness = Liveness(stall_after=4, clock=clock)
    liveness.published()
    clock.now += 3
    liveness.publish_failed()  # the broker went away: everyone waits for it
    clock.now += 10
    assert liveness.verdict() is Verdict.OK
    liveness.published()
    clock.now += 3
    liveness.busy()  # every slot taken: the consumer rightly fetches nothing
    clock.now += 10
    assert liveness.verdict() is Verdict.OK
