"""The catalogue as text: the README's table of domain events, made from the declarations and the subscriber
table, so the documentation cannot drift (tests/events/test_catalogue.py compares; `manage.py event_catalogue`
prints it, and with --write puts it in the README)."""

import inspect

from . import bus

POLICY_WORDS = {
    bus.Policy.ATOMIC: "atomic",
    bus.Policy.IN_TRANSACTION: "in transaction",
    bus.Policy.ON_COMMIT: "on commit",
    bus.Policy.OUTBOX: "outbox",
}


def _meaning(event_type: type[bus.Event]) -> str:
    doc = inspect.getdoc(event_type) or ""
    if doc.startswith(f"{event_type.__name__}("):  # dataclass's own generated doc: nothing was written
        return ""
    return " ".join(doc.split("\n\n")[0].split())


def _handler(subscription: bus.Subscription) -> str:
    return f"`{subscription.handler.__module__}.{subscription.handler.__qualname__}`"


# The order a missed call meets them: calls, then texts, then what the business records.
CORE_ORDER = ("telephony", "messaging", "crm")


def _in_path_order(event_type: type[bus.Event]) -> int:
    module = event_type.__module__.split(".")[0]
    return CORE_ORDER.index(module) if module in CORE_ORDER else len(CORE_ORDER)


def markdown_table() -> str:
    rows = ["| event | webhook | what happened | subscribers (policy) |", "|---|---|---|---|"]
    for event_type in sorted(bus.EVENTS.values(), key=_in_path_order):
        subscribers = (
            "; ".join(f"{_handler(s)} ({POLICY_WORDS[s.policy]})" for s in bus.subscribers_of(event_type))
            or "none yet"
        )
        webhook = f"`{event_type.name}`" if event_type.public else "—"
        module = event_type.__module__.split(".")[0]
        rows.append(
            f"| `{module}.{event_type.__name__}` | {webhook} | {_meaning(event_type)} | {subscribers} |"
        )
    return "\n".join(rows) + "\n"


README_START, README_END = "<!-- event-catalogue:start -->\n", "<!-- event-catalogue:end -->"


def readme_with_table(readme: str) -> str:
    """The README's text with the table between its markers made from the catalogue."""
    start = readme.index(README_START) + len(README_START)
    return readme[:start] + markdown_table() + readme[readme.index(README_END, start) :]
