"""The app shell's navigation, as a context processor: it names every section's URL, the edges' (inbox,
reports, billing) and the core's alike, so it lives with the URLconfs in the wiring above the apps rather than in
accounts, which names no app above it (tests/config/test_imports.py reads URL names too)."""

from django.urls import reverse

from accounts.selectors import request_client

# The app shell's side navigation (a bottom bar on a phone): (key, label, URL name, icon). Which entry is the
# current page is read from the URL's namespace or name, so a page deep inside a section (one contact, one
# report export) still marks its section.
CLIENT_NAV = [
    ("inbox", "Inbox", "inbox:list", "inbox"),
    ("contacts", "Contacts", "crm:index", "contacts"),
    ("reports", "Reports", "reports:client", "reports"),
    ("settings", "Settings", "client-settings", "settings"),
    ("team", "Team", "client-team", "team"),
]
AGENCY_NAV = [
    ("clients", "Clients", "home", "clients"),
    ("reports", "Reports", "reports:agency", "reports"),
    ("billing", "Billing", "billing:overview", "billing"),
]
SECTION_OF = {  # namespace or URL name → nav key
    "inbox": "inbox",
    "crm": "contacts",
    "reports": "reports",
    "client-settings": "settings",
    "api": "settings",
    "client-team": "team",
    "client-team-remove": "team",
    "billing": "billing",
    "agency": "clients",
    "home": "clients",
}


def navigation(request) -> dict:
    """The shell's navigation for a logged-in person: a client's sections on its host, the agency's elsewhere."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    match = getattr(request, "resolver_match", None)
    section = ""
    if match is not None:
        section = SECTION_OF.get(match.namespace) or SECTION_OF.get(match.url_name, "")
    entries = CLIENT_NAV if request_client(request) is not None else AGENCY_NAV
    nav = []
    for key, label, name, icon in entries:
        nav.append(
            {"key": key, "label": label, "url": reverse(name), "icon": icon, "current": section == key}
        )
    return {"nav": nav}
