"""The business's phone number at the provider: search local numbers by area code, buy one, or take one the
agency's Twilio account already holds, and point it at our webhooks; release a bought one at offboarding.

Like messaging.providers, implementations behind one interface: Telnyx's for an agency whose carrier is Telnyx
(numbers_for), else the one TELEPHONY_PROVIDER chooses: Twilio (its REST API, through
messaging.twilio_accounts.client_for in the agency's account, so TWILIO_API_BASE_URL applies) or a console one for
development and the demo, which offers plausible numbers in 555-01xx (the range kept for fiction) and buys them
by remembering nothing. Every failure is a NumberError whose message can be shown to the agency as it is."""

import logging
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import transaction
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client as TwilioClient

from messaging.twilio_accounts import AccountError, account_ensure, client_for

from .models import NumberHolder

log = logging.getLogger(__name__)

SEARCH_LIMIT = 10

# What the agency reads for the Twilio errors a number purchase meets most.
TWILIO_REASONS = {
    20003: "Twilio refused our credentials: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
    20404: "Twilio has no such number in your account.",
    21421: "Twilio says that is not a valid phone number.",
    21422: "That number is no longer available: search again and choose another.",
    21452: "Twilio has no numbers in that area code right now: try a nearby one.",
}


class NumberError(Exception):
    """Why a number could not be searched, bought, configured or released, in words for the agency."""


@dataclass(frozen=True)
class AvailableNumber:
    phone_number: str
    locality: str = ""
    region: str = ""


@dataclass(frozen=True)
class HeldNumber:
    """A number the account holds, pointed at our webhooks. `sid` is the provider's id (PN…)."""

    phone_number: str
    sid: str


def webhook_urls() -> dict[str, str]:
    """Where Twilio must send a number's calls, texts and call status (see telephony/urls.py, messaging/urls.py)."""
    base = settings.PUBLIC_BASE_URL  # what Twilio signs its webhooks over (messaging.webhooks.webhook_url)
    return {
        "voice_url": f"{base}/hooks/twilio/voice/incoming/",
        "sms_url": f"{base}/hooks/twilio/sms/incoming/",
        "status_callback": f"{base}/hooks/twilio/voice/status/",
    }


class Numbers:
    name = "abstract"

    def search(self, *, area_code: str) -> list[AvailableNumber]:
        raise NotImplementedError

    def buy(self, *, phone_number: str) -> HeldNumber:
        """Buy this number and point it at our webhooks."""
        raise NotImplementedError

    def adopt(self, *, phone_number: str) -> HeldNumber:
        """Point a number the account already holds at our webhooks."""
        raise NotImplementedError

    def release(self, *, sid: str) -> None:
        """Give a bought number back. A number already gone is not an error."""
        raise NotImplementedError


class ConsoleNumbers(Numbers):
    name = "console"

    def search(self, *, area_code):
        return [AvailableNumber(f"+1{area_code}55501{n:02d}", "Demo City", "") for n in range(10, 15)]

    def buy(self, *, phone_number):
        log.info("console: bought %s, webhooks %s", phone_number, webhook_urls())
        return HeldNumber(phone_number, "PN" + uuid.uuid4().hex)

    def adopt(self, *, phone_number):
        log.info("console: pointed %s at %s", phone_number, webhook_urls())
        return HeldNumber(phone_number, "PN" + uuid.uuid4().hex)

    def release(self, *, sid):
        log.info("console: released %s", sid)


class TwilioNumbers(Numbers):
    name = "twilio"

    def __init__(self, client: TwilioClient):
        self.client = client

    def search(self, *, area_code):
        with _reasons("search for numbers"):
            found = self.client.available_phone_numbers("US").local.list(
                area_code=int(area_code), sms_enabled=True, voice_enabled=True, limit=SEARCH_LIMIT
            )
        return [AvailableNumber(n.phone_number, n.locality or "", n.region or "") for n in found]

    def buy(self, *, phone_number):
        try:
            with _reasons("buy the number"):
                bought = self.client.incoming_phone_numbers.create(phone_number=phone_number, **_hooks())
        except NumberError as exc:
            # An earlier attempt whose answer was lost may have bought it: then it is ours, not "unavailable".
            held = self._held(phone_number) if getattr(exc.__cause__, "code", None) == 21422 else None
            if held is None:
                raise
            return self._point(held)
        return HeldNumber(bought.phone_number, bought.sid)

    def adopt(self, *, phone_number):
        held = self._held(phone_number)
        if held is None:
            raise NumberError(f"{phone_number} is not a number of your Twilio account.")
        return self._point(held)

    def release(self, *, sid):
        try:
            with _reasons("release the number"):
                self.client.incoming_phone_numbers(sid).delete()
        except NumberError as exc:
            if getattr(exc.__cause__, "status", None) != 404:
                raise

    def _held(self, phone_number: str) -> HeldNumber | None:
        with _reasons("look the number up"):
            found = self.client.incoming_phone_numbers.list(phone_number=phone_number, limit=1)
        return HeldNumber(found[0].phone_number, found[0].sid) if found else None

    def _point(self, held: HeldNumber) -> HeldNumber:
        with _reasons("point the number at our webhooks"):
            self.client.incoming_phone_numbers(held.sid).update(**_hooks())
        return held


def _hooks() -> dict[str, str]:
    return {**webhook_urls(), "voice_method": "POST", "sms_method": "POST", "status_callback_method": "POST"}


@contextmanager
def _reasons(doing: str):
    """Turns what twilio-python and requests raise into a NumberError the agency can read."""
    try:
        yield
    except TwilioRestException as exc:
        said = re.sub(r"^Unable to \w+ record: ", "", str(exc.msg))  # twilio-python's prefix
        reason = TWILIO_REASONS.get(exc.code) or f"Twilio could not {doing}: {said} (error {exc.code})."
        raise NumberError(reason) from exc
    except requests.RequestException as exc:
        raise NumberError(f"Could not reach Twilio to {doing}; try again in a moment.") from exc


# --- Who holds a number ------------------------------------------------------------------------------------


class NumberHeld(NumberError):
    """The number is another agency's, or the platform's own."""


def number_holder_check(*, phone_number: str, agency) -> None:
    """NumberHeld unless the number is this agency's or nobody's yet. Asked before the provider is: an agency
    must not point another agency's number (or the platform's) at a client of its own and take its callers."""
    holder = NumberHolder.objects.filter(phone_number=str(phone_number)).first()
    if holder is None or holder.agency_id == agency.pk:
        return
    raise NumberHeld(
        "That number belongs to another agency."
        if holder.agency_id
        else "That number is the platform's own and cannot be used for a client."
    )


def number_holder_record(*, phone_number: str, agency, client) -> NumberHolder:
    """The agency holds the number and `client` uses it. When it comes from another of the agency's clients
    (say, one offboarded), that one is remembered as previous_client: its callers' opt-outs come along
    (agency.onboarding carries them over). NumberHeld if another agency got to it first."""
    with transaction.atomic():
        holder, created = NumberHolder.objects.select_for_update().get_or_create(
            phone_number=str(phone_number), defaults={"agency": agency, "client": client}
        )
        if created:
            return holder
        if holder.agency_id != agency.pk:
            raise NumberHeld("That number belongs to another agency.")
        if holder.client_id != client.pk:
            holder.previous_client_id, holder.client = holder.client_id, client
            holder.save(update_fields=["previous_client", "client", "updated_at"])
    return holder


def get_numbers(*, agency=None) -> Numbers:
    """Made afresh each time (numbers are bought rarely): settings changed by tests apply at once. With an
    agency, numbers are bought, adopted and released in its account (its subaccount, made now when
    TWILIO_SUBACCOUNTS is on and it has none yet, or its own; messaging.twilio_accounts)."""
    if settings.TELEPHONY_PROVIDER == "twilio":
        if agency is not None:
            try:
                account_ensure(agency=agency)
            except AccountError as exc:
                raise NumberError(str(exc)) from exc
        return TwilioNumbers(client_for(agency))
    return ConsoleNumbers()


def numbers_for(agency) -> Numbers:
    """The numbers of the agency's carrier (accounts.Agency.carrier; empty: the platform's default, console or
    Twilio, never Telnyx), in the agency's own Twilio account when it is on Twilio (get_numbers)."""
    if agency.carrier == "telnyx":
        return TelnyxNumbers()
    return get_numbers(agency=agency)


# --- Telnyx ------------------------------------------------------------------------------------------------

TELNYX_REASONS = {
    10009: "Telnyx refused our credentials: check TELNYX_API_KEY.",
    10005: "Telnyx has no such number in your account.",
    10002: "Telnyx says that is not a valid phone number.",
    10016: "Telnyx says that is not a valid phone number.",
}


def texml_application_urls() -> dict[str, str]:
    """Where the TeXML application sends a Telnyx number's calls and their status (telephony/urls.py under
    /hooks/telnyx/): Telnyx sets these per application, not per number."""
    base = settings.PUBLIC_BASE_URL
    return {
        "voice_url": f"{base}/hooks/telnyx/voice/incoming/",
        "status_callback": f"{base}/hooks/telnyx/voice/status/",
    }


class TelnyxNumbers(Numbers):
    """Telnyx's numbers API (v2, Bearer key, TELNYX_API_BASE_URL): a number is pointed at our TeXML application
    (TELNYX_TEXML_APP_ID) and messaging profile (TELNYX_MESSAGING_PROFILE_ID, whose webhook is /hooks/telnyx/sms/).
    Before a number is bought or adopted the application itself is checked, and corrected, to send calls to
    /hooks/telnyx/voice/incoming/ and their status to /hooks/telnyx/voice/status/ (the hang-up backstop: without
    it a caller who hangs up while it rings is never texted). `sid` is Telnyx's phone number id."""

    name = "telnyx"

    def __init__(self):
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {settings.TELNYX_API_KEY}"})

    def _call(self, doing: str, method: str, path: str, **kwargs) -> dict:
        try:
            answer = self.session.request(
                method,
                settings.TELNYX_API_BASE_URL.rstrip("/") + path,
                timeout=settings.TELNYX_TIMEOUT_SECONDS,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise NumberError(f"Could not reach Telnyx to {doing}; try again in a moment.") from exc
        try:
            data = answer.json() if answer.content else {}
        except ValueError:
            data = {}
        if answer.status_code >= 400:
            errors = data.get("errors") or [{}]
            raw = str(errors[0].get("code", "")) if isinstance(errors[0], dict) else ""
            code = int(raw) if raw.isdigit() else None
            said = errors[0].get("detail") or errors[0].get("title") or answer.reason
            reason = TELNYX_REASONS.get(code or 0) or f"Telnyx could not {doing}: {said} (error {code})."
            error = NumberError(reason)
            error.status = answer.status_code  # type: ignore[attr-defined]
            error.said = said  # type: ignore[attr-defined]
            raise error
        return data

    def search(self, *, area_code):
        data = self._call(
            "search for numbers",
            "GET",
            "/v2/available_phone_numbers",
            params={
                "filter[country_code]": "US",
                "filter[national_destination_code]": area_code,
                "filter[features][]": ["sms", "voice"],
                "filter[limit]": SEARCH_LIMIT,
            },
        )
        found = []
        for number in data.get("data") or []:
            region = {
                r.get("region_type"): r.get("region_name", "") for r in number.get("region_information") or []
            }
            found.append(
                AvailableNumber(
                    number["phone_number"], region.get("rate_center", ""), region.get("state", "")
                )
            )
        return found

    def buy(self, *, phone_number):
        self._application_ensure()
        held = self._held(phone_number)
        if held is not None:  # an earlier attempt whose answer was lost bought it: it is ours
            return self._point(held)
        try:
            self._call(
                "buy the number",
                "POST",
                "/v2/number_orders",
                json={
                    "phone_numbers": [{"phone_number": phone_number}],
                    "connection_id": settings.TELNYX_TEXML_APP_ID,
                    "messaging_profile_id": settings.TELNYX_MESSAGING_PROFILE_ID,
                },
                headers={"Idempotency-Key": f"buy-{phone_number.lstrip('+')}"},
            )
        except NumberError as exc:
            # Refused for the number itself (taken since the search, say): not "no such number in your account".
            if getattr(exc, "status", None) in (404, 422):
                said = getattr(exc, "said", "")
                raise NumberError(
                    f"Telnyx would not sell {phone_number} ({said}): search again and choose another."
                ) from exc
            raise
        held = self._held(phone_number)
        if held is None:
            raise NumberError(
                "Telnyx took the order but the number is not in the account yet; try again shortly."
            )
        return held

    def adopt(self, *, phone_number):
        self._application_ensure()
        held = self._held(phone_number)
        if held is None:
            raise NumberError(f"{phone_number} is not a number of your Telnyx account.")
        return self._point(held)

    def _application_ensure(self) -> None:
        """The TeXML application sends calls and their status to us (one PATCH when it did not)."""
        app_id = settings.TELNYX_TEXML_APP_ID
        if not app_id:
            raise NumberError(
                "TELNYX_TEXML_APP_ID is not set: Telnyx would not send this number's calls to us."
            )
        path = f"/v2/texml_applications/{app_id}"
        application = self._call("read the TeXML application", "GET", path).get("data") or {}
        wanted = texml_application_urls()
        if all(application.get(name) == url for name, url in wanted.items()):
            return
        self._call(
            "point the TeXML application at our webhooks",
            "PATCH",
            path,
            json={
                "friendly_name": application.get("friendly_name") or "Textback",  # required by the API
                **wanted,
                "voice_method": "post",
                "status_callback_method": "post",
            },
        )

    def release(self, *, sid):
        try:
            self._call("release the number", "DELETE", f"/v2/phone_numbers/{sid}")
        except NumberError as exc:
            if getattr(exc, "status", None) != 404:
                raise

    def _held(self, phone_number: str) -> HeldNumber | None:
        data = self._call(
            "look the number up", "GET", "/v2/phone_numbers", params={"filter[phone_number]": phone_number}
        )
        found = data.get("data") or []
        return HeldNumber(found[0]["phone_number"], str(found[0]["id"])) if found else None

    def _point(self, held: HeldNumber) -> HeldNumber:
        self._call(
            "point the number at our webhooks",
            "PATCH",
            f"/v2/phone_numbers/{held.sid}",
            json={"connection_id": settings.TELNYX_TEXML_APP_ID},
        )
        self._call(
            "point the number's texts at our webhooks",
            "PATCH",
            f"/v2/phone_numbers/{held.sid}/messaging",
            json={"messaging_profile_id": settings.TELNYX_MESSAGING_PROFILE_ID},
        )
        return held
