"""The sender's threads share one Twilio client (one kept-alive HTTP session per process): each send must get
its own answer back, never another thread's."""

import time
from concurrent.futures import ThreadPoolExecutor

from messaging.providers import get_provider, status_callback_url


def test_threads_sharing_the_twilio_client_each_get_their_own_texts_sid(twilio):
    """twilio-python's own HTTP client returned each answer through an attribute of the shared client object: a
    thread that lost the processor between storing its answer and returning it came back with another thread's
    (another text's sid). Here the thread is made to lose it right there, every time."""
    provider = get_provider()
    http = provider.client.http_client
    shared = type(http)

    class LosesTheProcessorAfterStoring(shared):
        @property
        def _test_only_last_response(self):
            return self.__dict__.get("last_response")

        @_test_only_last_response.setter
        def _test_only_last_response(self, value):
            self.__dict__["last_response"] = value
            time.sleep(0.002)  # another sender thread runs here

    def send(body: str) -> str:
        sent = provider.send(
            from_number="+13125550100",
            to_number="+13125550123",
            body=body,
            status_callback=status_callback_url(),
        )
        return sent.sid

    bodies = [f"text {n}" for n in range(40)]
    http.__class__ = LosesTheProcessorAfterStoring
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            sids = list(pool.map(send, bodies))
    finally:
        http.__class__ = shared
    sid_of = {message["body"]: message["sid"] for message in twilio.messages}
    assert sids == [sid_of[body] for body in bodies]
