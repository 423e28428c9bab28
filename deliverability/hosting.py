"""Texting from the number the caller dialled: Twilio's Hosted SMS for a client in carrier-forwarding mode.

There the caller dials the business's own number, which its carrier forwards to the Textback number when nobody
answers; without hosting, the text-back comes from the Textback number, a stranger's. Hosting moves only the
number's texting to Twilio (its calls stay with the business's carrier), in the agency's Twilio account
(messaging.twilio_accounts.client_for):

1. order (Numbers v2 CreateHostedNumberOrder): the business's address as an Address (deliverability.addresses),
   who signs the letter of authorisation (LOA) and where Twilio emails it; texts to the number come to our SMS
   webhook. Twilio refuses at once a number it cannot host (22110: already text-enabled elsewhere, owned by
   Twilio, mobile or VoIP, or a carrier that does not allow it), and says so in words here.
2. the owner verifies they own the number (UpdateHostedNumberOrder Status=pending-verification: Twilio calls the
   number and the owner types the code shown on our page) and signs the LOA Twilio emailed (its
   AuthorizationDocument goes opened → signing → signed);
3. carriers move the number's texting (carrier-processing, testing), then "completed": Client.hosted_sms_number
   is set and every text of the client goes from it (Client.texts_from); the number joins the client's A2P
   messaging service when it has one.

Twilio's order has no status callback of its own (the StatusCallbackUrl it takes is copied onto the number, for
texts), so orders on their way are polled by beat (hosting_check_all) and on demand from the page; each check is
idempotent. Every failure is a HostingError whose message is shown as it is."""

import logging
import re
from contextlib import contextmanager

import requests
from django.db import IntegrityError, transaction
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException

from accounts.models import Client
from messaging.carriers import TELNYX, carrier_name
from messaging.twilio_accounts import client_for
from telephony.numbers import webhook_urls

from .addresses import address_ensure
from .errors import RegistrationError
from .models import A2PRegistration, HostedNumberOrder
from .registration import SOLE_PROPRIETOR

log = logging.getLogger(__name__)

Status = HostedNumberOrder.Status
OPEN = [s for s in Status.values if s not in (Status.FAILED, Status.CANCELED, Status.COMPLETED)]
ENDED = (Status.FAILED, Status.CANCELED)
# A verification call rings this long after it is asked for, so the owner has the page open with the code.
VERIFICATION_CALL_DELAY = 15

NOT_HOSTABLE = (
    "Twilio cannot host this number's texting: it is already set up for texting with another provider or "
    "Twilio account, it is a mobile or VoIP number, or its carrier does not allow it (Twilio error 22110). "
    "If another texting service uses it, ask them to release its texting, then order again."
)
# What Twilio's own error codes mean for the owner (those of an order and of its status changes).
TWILIO_REASONS = {
    22110: NOT_HOSTABLE,
    22111: "Twilio says the order is not at a step where that can be done; check again in a moment.",
    22114: "Twilio could not take the code: place the verification call again, then type the code on it.",
    21421: "Twilio says that is not a valid phone number.",
}
# Twilio's failure reasons (free text) → what they mean, in plain words. First match wins.
PLAIN_REASONS = (
    (
        re.compile(r"already.*(sms|text|messag|host)|(sms|messag).*(already|enabled)", re.I),
        "The number is already set up for texting somewhere else (another provider or Twilio account). Ask "
        "that provider to release its texting, then order again.",
    ),
    (
        re.compile(
            r"carrier.*(not supported|unsupported|not eligible|does not support)|unsupported carrier", re.I
        ),
        "The number's carrier does not allow its texting to be hosted at Twilio.",
    ),
    (
        re.compile(r"mobile|voip|wireless", re.I),
        "Mobile and VoIP numbers cannot be hosted; only landlines and toll-free numbers can.",
    ),
    (
        re.compile(r"verif", re.I),
        "Ownership was not verified: answer Twilio's call at the number and type the code shown here.",
    ),
    (
        re.compile(r"\bLOA\b|authori[sz]ation|sign", re.I),
        "The letter of authorisation was not signed, or the name or address on it did not match the "
        "carrier's records.",
    ),
)


class HostingError(Exception):
    """Why a number cannot be ordered, verified or checked, in words for the business and its agency."""


@contextmanager
def _twilio(doing: str):
    try:
        yield
    except TwilioRestException as exc:
        known = TWILIO_REASONS.get(exc.code or 0)
        said = re.sub(r"^Unable to \w+ record: ", "", str(exc.msg))
        raise HostingError(known or f"Twilio refused to {doing}: {said} (error {exc.code}).") from exc
    except requests.RequestException as exc:
        raise HostingError(f"Could not reach Twilio to {doing}; try again in a moment.") from exc


def plain_reason(reason: str) -> str:
    """A failure reason from Twilio, said plainly (Twilio's own words kept after it)."""
    reason = (reason or "").strip()
    for pattern, plain in PLAIN_REASONS:
        if pattern.search(reason):
            return plain
    return reason or "Twilio gave no reason."


def hosting_refusal(client: Client) -> str | None:
    """Why this client cannot order hosting at all, or None."""
    if client.call_mode != Client.CallMode.CARRIER:
        return (
            "Only for carrier forwarding: in forward mode callers dial the Textback number, so texts already come "
            "from the number they called."
        )
    carrier = carrier_name(client)
    if carrier == TELNYX:
        return "Hosting the business's number for texting is done through Twilio; this agency texts through Telnyx."
    if carrier != "twilio":
        return (
            "Hosting the business's number for texting is done through Twilio; this installation sends texts to the "
            "console (TELEPHONY_PROVIDER=console, for development), so there is nothing to host."
        )
    if not client.phone_number:
        return "The client needs its Textback number first (the wizard's number step)."
    return None


def open_order(client: Client) -> HostedNumberOrder | None:
    return HostedNumberOrder.objects.filter(client=client).exclude(status__in=ENDED).order_by("-pk").first()


def latest_order(client: Client) -> HostedNumberOrder | None:
    return HostedNumberOrder.objects.filter(client=client).order_by("-pk").first()


def hosting_order(
    *,
    client: Client,
    phone_number: str,
    contact_name: str,
    contact_title: str,
    contact_email: str,
    contact_phone: str,
    street: str,
    city: str,
    region: str,
    postal_code: str,
    verification_extension: str = "",
) -> HostedNumberOrder:
    """Order hosting of `phone_number` (E.164, checked by the form) for the client's texts."""
    refusal = hosting_refusal(client)
    if refusal:
        raise HostingError(refusal)
    if open_order(client) is not None:
        raise HostingError("This business already has an order for hosting on its way.")
    if phone_number == str(client.phone_number):
        raise HostingError(
            "That is the Textback number: enter the business's own number, the one callers dial."
        )
    used = Client.objects.filter(hosted_sms_number=phone_number).exclude(pk=client.pk).exists()
    if used or Client.objects.filter(phone_number=phone_number).exists():
        raise HostingError("Another business already texts from that number here.")
    if (
        HostedNumberOrder.objects.filter(phone_number=phone_number)
        .exclude(client=client)
        .exclude(status__in=ENDED)
        .exists()
    ):
        raise HostingError("Another business already has an order for that number.")
    api = client_for(client.agency)
    try:
        address_sid = address_ensure(
            client=client,
            api=api,
            customer_name=client.name,
            street=street,
            city=city,
            region=region,
            postal_code=postal_code,
        )
    except RegistrationError as exc:
        raise HostingError(str(exc)) from exc
    with _twilio("order hosting of the number"):
        made = api.numbers.v2.hosted_number_orders.create(
            phone_number=phone_number,
            contact_phone_number=contact_phone,
            address_sid=address_sid,
            email=contact_email,
            friendly_name=f"{client.name} texting"[:128],
            contact_title=contact_title or "Owner",
            sms_capability=True,
            sms_url=webhook_urls()["sms_url"],
            sms_method="POST",
        )
    order = HostedNumberOrder(
        client=client,
        phone_number=phone_number,
        contact_name=contact_name,
        contact_title=contact_title,
        contact_email=contact_email,
        contact_phone=contact_phone,
        account_sid=made.account_sid or api.account_sid,
        order_sid=made.sid,
        address_sid=address_sid,
        verification_extension=verification_extension,
    )
    _apply(order, made)
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError as exc:  # a second click at the same moment: one order stays ours, cancel this one
        _cancel_quietly(api, made.sid)
        raise HostingError("This business already has an order for hosting on its way.") from exc
    log.info("client %s: hosting of %s ordered (%s)", client.slug, phone_number, made.sid)
    return order


def hosting_verify_call(*, order: HostedNumberOrder) -> HostedNumberOrder:
    """Ask Twilio to call the number to verify ownership; the code to type on the call is kept and shown."""
    if order.status not in (Status.RECEIVED, Status.PENDING_VERIFICATION, Status.ACTION_REQUIRED):
        raise HostingError("The number's ownership is not waiting to be verified.")
    api = _api(order)
    with _twilio("place the verification call"):
        updated = api.numbers.v2.hosted_number_orders(order.order_sid).update(
            status="pending-verification",
            verification_call_delay=VERIFICATION_CALL_DELAY,
            **(
                {"verification_call_extension": order.verification_extension}
                if order.verification_extension
                else {}
            ),
        )
    _apply(order, updated)
    order.verification_called_at = timezone.now()
    _save(order)
    return order


def hosting_check(*, order: HostedNumberOrder) -> HostedNumberOrder:
    """Where the order (and its letter of authorisation) stands at Twilio; on "completed", the client's texts
    move to the hosted number. Idempotent."""
    if order.status in ENDED or (order.status == Status.COMPLETED and order.completed_at):
        return order
    api = _api(order)
    try:
        fetched = api.numbers.v2.hosted_number_orders(order.order_sid).fetch()
    except TwilioRestException as exc:
        if exc.status != 404:
            with _twilio("look the order up"):
                raise
        # Gone at Twilio (cancelled in its console, or by Twilio): say so once, and stop asking.
        order.status = Status.CANCELED
        order.failure_reason = (
            "Twilio no longer has this order (it was cancelled there); order again if needed."
        )
        order.checked_at = timezone.now()
        _save(order)
        return order
    except requests.RequestException as exc:
        raise HostingError("Could not reach Twilio to look the order up; try again in a moment.") from exc
    _apply(order, fetched)
    if order.signing_document_sid and order.status not in (Status.COMPLETED, Status.FAILED):
        with _twilio("look the letter of authorisation up"):
            document = api.numbers.v2.authorization_documents(order.signing_document_sid).fetch()
        order.loa_status = document.status or ""
    order.checked_at = timezone.now()
    _save(order)
    if order.status == Status.COMPLETED:
        _texts_move(order, api)
    return order


LETTER_OPEN = (
    Status.RECEIVED,
    Status.PENDING_VERIFICATION,
    Status.VERIFIED,
    Status.PENDING_LOA,
    Status.ACTION_REQUIRED,
)


def hosting_letter_again(*, order: HostedNumberOrder, email: str) -> HostedNumberOrder:
    """A new letter of authorisation for the order, emailed to `email` (the owner lost it, or it went to the wrong
    address): Twilio's CreateAuthorizationDocument; the order then waits for that one to be signed."""
    if order.status not in LETTER_OPEN or order.loa_status == "signed":
        raise HostingError("The letter of authorisation is signed already, or the order is past it.")
    api = _api(order)
    with _twilio("send the letter of authorisation again"):
        document = api.numbers.v2.authorization_documents.create(
            address_sid=order.address_sid,
            email=email,
            contact_phone_number=order.contact_phone,
            hosted_number_order_sids=[order.order_sid],
            contact_title=order.contact_title or "Owner",
        )
    order.signing_document_sid = document.sid or order.signing_document_sid
    order.loa_status = document.status or ""
    order.contact_email = email
    _save(order)
    return order


def hosting_cancel(*, order: HostedNumberOrder) -> HostedNumberOrder:
    """Cancel an order Twilio has not started on (it allows that while "received" or still checking)."""
    if order.status not in (Status.TWILIO_PROCESSING, Status.RECEIVED, Status.ACTION_REQUIRED):
        raise HostingError("Twilio only cancels an order before the letter of authorisation is signed.")
    with _twilio("cancel the order"):
        _api(order).numbers.v2.hosted_number_orders(order.order_sid).delete()
    order.status = Status.CANCELED
    _save(order)
    return order


def hosting_release(*, order: HostedNumberOrder) -> HostedNumberOrder:
    """End a completed hosting: the hosted number is released from the agency's Twilio account (its
    IncomingPhoneNumber deleted; its texting goes back to the business's carrier), the client's texts go from the
    Textback number again, and the number may be ordered again later."""
    if order.status != Status.COMPLETED:
        raise HostingError("Only a completed hosting can be released.")
    api = _api(order)
    if order.incoming_number_sid:
        try:
            api.incoming_phone_numbers(order.incoming_number_sid).delete()
        except TwilioRestException as exc:
            if exc.status != 404:  # gone already: what we wanted
                with _twilio("release the hosted number"):
                    raise
        except requests.RequestException as exc:
            raise HostingError(
                "Could not reach Twilio to release the hosted number; try again in a moment."
            ) from exc
    with transaction.atomic():
        Client.objects.filter(pk=order.client_id, hosted_sms_number=order.phone_number).update(
            hosted_sms_number=None
        )
        order.status = Status.CANCELED
        order.failure_reason = (
            f"Released on {timezone.now():%Y-%m-%d}: texts go from the Textback number, and the number's texting "
            "went back to its carrier."
        )
        order.save()
    log.info("client %s: hosting of %s released", order.client_id, order.phone_number)
    return order


def hosting_stop(*, client: Client) -> None:
    """Texts go from the Textback number again (the hosting itself stays at Twilio until released there)."""
    Client.objects.filter(pk=client.pk).update(hosted_sms_number=None)


def hosting_check_all() -> int:
    """Beat: every order on its way, checked once; one failure does not stop the others."""
    count = 0
    for order in HostedNumberOrder.objects.filter(status__in=OPEN).select_related("client__agency"):
        try:
            hosting_check(order=order)
        except HostingError as exc:
            log.warning("hosting order %s not checked: %s", order.order_sid, exc)
        count += 1
    return count


# --- What the owner must do next ---------------------------------------------------------------------------


def next_action(order: HostedNumberOrder) -> dict:
    """What the page says comes next: {"who": "owner"|"nobody"|"agency", "kind", "text"}."""
    number = order.phone_number
    if order.status == Status.COMPLETED:
        return {"who": "nobody", "kind": "done", "text": f"Done: the business's texts go from {number}."}
    if order.status == Status.FAILED:
        return {"who": "nobody", "kind": "failed", "text": plain_reason(order.failure_reason)}
    if order.status == Status.CANCELED:
        return {
            "who": "nobody",
            "kind": "canceled",
            "text": order.failure_reason or "This order was cancelled.",
        }
    if order.status == Status.ACTION_REQUIRED:
        said = order.failure_reason or order.next_step
        return {
            "who": "owner",
            "kind": "action",
            "text": f"Twilio needs something before it can go on: {plain_reason(said)}",
        }
    if order.status in (Status.RECEIVED, Status.PENDING_VERIFICATION):
        if order.verification_code:
            text = (
                f"Answer Twilio's call at {number} and type the code {order.verification_code} on the keypad. "
                "No call, or missed it? Place the call again."
            )
        else:
            text = (
                f"Verify that the business owns {number}: place the verification call, answer it at that number "
                "and type the code this page then shows."
            )
        return {"who": "owner", "kind": "verify", "text": text}
    if order.loa_status in ("", "opened", "signing") and order.status in (
        Status.VERIFIED,
        Status.PENDING_LOA,
    ):
        return {
            "who": "owner",
            "kind": "sign",
            "text": (
                f"{order.contact_name} signs the letter of authorisation Twilio emailed to {order.contact_email} "
                "(an e-signature request). It lets Twilio carry this number's texts; its calls stay where they are."
            ),
        }
    if order.status in (Status.CARRIER_PROCESSING, Status.TESTING, Status.VERIFIED, Status.PENDING_LOA):
        return {
            "who": "nobody",
            "kind": "wait",
            "text": "Nothing to do: the carriers are moving the number's texting to Twilio (about a business day).",
        }
    return {
        "who": "nobody",
        "kind": "wait",
        "text": "Nothing to do yet: Twilio is checking that the number can be hosted (a few minutes).",
    }


# --- Inside ------------------------------------------------------------------------------------------------


def _api(order: HostedNumberOrder):
    client = Client.objects.select_related("agency").get(pk=order.client_id)
    api = client_for(client.agency)
    if api.account_sid != order.account_sid:
        raise HostingError(
            "The agency's Twilio account changed since this order was placed; order again from the new account."
        )
    return api


def _apply(order: HostedNumberOrder, resource) -> None:
    status = resource.status or order.status
    if status in Status.values:
        order.status = status
    order.failure_reason = (resource.failure_reason or "")[:500]
    order.next_step = (resource.next_step or "")[:500]
    order.signing_document_sid = resource.signing_document_sid or order.signing_document_sid
    order.incoming_number_sid = resource.incoming_phone_number_sid or order.incoming_number_sid
    if resource.verification_code:
        order.verification_code = str(resource.verification_code)[:12]


def _texts_move(order: HostedNumberOrder, api) -> None:
    """Completed: the client's texts go from the hosted number (once), and it joins the A2P messaging service."""
    if order.completed_at is None:
        order.completed_at = timezone.now()
        _save(order)
    moved = (
        Client.objects.filter(pk=order.client_id)
        .exclude(hosted_sms_number=order.phone_number)
        .update(hosted_sms_number=order.phone_number)
    )
    if not moved:
        return
    log.info("client %s: texts now go from its hosted number %s", order.client_id, order.phone_number)
    registration = A2PRegistration.objects.filter(client_id=order.client_id).first()
    if registration and registration.messaging_service_sid and order.incoming_number_sid:
        service = api.messaging.v1.services(registration.messaging_service_sid)
        textback_sid = Client.objects.filter(pk=order.client_id).values_list("number_sid", flat=True).first()
        try:
            if registration.brand_type == SOLE_PROPRIETOR and textback_sid:
                # A sole proprietor's campaign holds one number: the one texts now go from replaces the other.
                try:
                    service.phone_numbers(textback_sid).delete()
                except TwilioRestException as exc:
                    if exc.status != 404:
                        with _twilio("take the Textback number out of the messaging service"):
                            raise
            with _twilio("add the hosted number to the messaging service"):
                service.phone_numbers.create(phone_number_sid=order.incoming_number_sid)
        except (HostingError, requests.RequestException) as exc:
            log.warning("hosted number %s not added to its messaging service: %s", order.phone_number, exc)


def _cancel_quietly(api, order_sid: str) -> None:
    try:
        api.numbers.v2.hosted_number_orders(order_sid).delete()
    except (TwilioRestException, requests.RequestException) as exc:
        log.warning("could not cancel the spare hosting order %s: %s", order_sid, exc)


def _save(order: HostedNumberOrder) -> None:
    with transaction.atomic():
        order.save()
