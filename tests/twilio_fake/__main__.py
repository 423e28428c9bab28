"""Run the fake Twilio as a process: python -m tests.twilio_fake --port 8999

Prints one line, the base URL, then serves until killed (SIGINT/SIGTERM). Besides Twilio's paths it answers
GET /_fake/messages|requests|violations|lookups|callbacks and POST /_fake/reset, plus POST /_fake/<method>
with a JSON object of keyword arguments for fail_next, hang_next, drop_connection_next, reject, unreject,
set_line_type, set_status, add_message, send_status_callback, set_latency and fail_for.
"""

import argparse
import signal
import sys
import threading

from .server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, FakeTwilio


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.twilio_fake", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8999, help="0 picks a free port (default 8999)")
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    args = parser.parse_args(argv)

    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    fake = FakeTwilio(
        args.account_sid, args.auth_token, host=args.host, port=args.port, control_endpoints=True
    )
    with fake:
        print(fake.base_url, flush=True)
        while not done.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
