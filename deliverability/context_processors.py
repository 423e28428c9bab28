"""What every page of a client's host may say about texting: that its text-backs are held until its number's
registration is approved (templates/base.html). Lazy: asked only on a client whose registration is pending."""

from accounts.selectors import request_client

from .selectors import textbacks_held


def registration(request) -> dict:
    client = request_client(request)
    return {"textbacks_held": (lambda: textbacks_held(client)) if client is not None else False}
