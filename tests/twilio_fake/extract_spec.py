"""Cut the parts of Twilio's OpenAPI specs that Textback uses into tests/twilio_fake/twilio_spec_subset.json.

Run from anywhere:  python tests/twilio_fake/extract_spec.py [--spec-dir DIR] [--check]

The full specs (github.com/twilio/twilio-oai, 1.8 MB for api v2010 alone) live beside the clone in
../shared/twilio-openapi; the fake Twilio server only reads the subset written here, so the repository stays
self-contained. Only the operations in OPERATIONS are kept, with every component schema they reference
(transitively). Descriptions of parameters and request fields are kept (they document semantics such as
"DateSent>" meaning "on and after"); examples, response headers and x-twilio annotations are dropped.

--check exits 1 if the committed subset differs from what the specs would produce now.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DEFAULT_SPEC_DIR = REPO_ROOT.parent / "shared" / "twilio-openapi"
OUTPUT = HERE / "twilio_spec_subset.json"

# api name → (spec file, [(path template, method), ...])
OPERATIONS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "api_v2010": (
        "twilio_api_v2010.json",
        [
            ("/2010-04-01/Accounts.json", "post"),  # CreateAccount: a subaccount of the authenticated account
            ("/2010-04-01/Accounts/{Sid}.json", "get"),  # FetchAccount: checks an agency's own credentials
            ("/2010-04-01/Accounts/{Sid}.json", "post"),  # UpdateAccount: close a subaccount
            ("/2010-04-01/Accounts/{AccountSid}/Messages.json", "post"),  # CreateMessage
            ("/2010-04-01/Accounts/{AccountSid}/Messages.json", "get"),  # ListMessage
            ("/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json", "get"),  # FetchMessage
            # ListAvailablePhoneNumberLocal
            ("/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json", "get"),
            (
                "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
                "post",
            ),  # CreateIncomingPhoneNumber
            ("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json", "get"),  # ListIncomingPhoneNumber
            ("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json", "post"),  # Update…
            ("/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json", "delete"),  # Delete…
            ("/2010-04-01/Accounts/{AccountSid}/Calls.json", "post"),  # CreateCall (alerts, call-back)
            # CreateAddress: the business's address (Hosted SMS orders, TrustHub customer profiles)
            ("/2010-04-01/Accounts/{AccountSid}/Addresses.json", "post"),
            # Usage and prices per subaccount (deliverability.usage)
            ("/2010-04-01/Accounts/{AccountSid}/Usage/Records/ThisMonth.json", "get"),
            ("/2010-04-01/Accounts/{AccountSid}/Usage/Records/LastMonth.json", "get"),
        ],
    ),
    # A2P 10DLC registration (deliverability.registration): the business's TrustHub profiles, its brand, the
    # messaging service holding its number, and the campaign.
    "trusthub_v1": (
        "twilio_trusthub_v1.json",
        [
            ("/v1/CustomerProfiles", "post"),  # CreateCustomerProfile
            ("/v1/CustomerProfiles/{Sid}", "post"),  # UpdateCustomerProfile: submit for review
            ("/v1/CustomerProfiles/{CustomerProfileSid}/EntityAssignments", "post"),
            ("/v1/EndUsers", "post"),  # CreateEndUser
            ("/v1/TrustProducts", "post"),  # CreateTrustProduct
            ("/v1/TrustProducts/{Sid}", "post"),  # UpdateTrustProduct: submit for review
            ("/v1/TrustProducts/{TrustProductSid}/EntityAssignments", "post"),
            ("/v1/SupportingDocuments", "post"),  # CreateSupportingDocument: the profile's address
        ],
    ),
    "messaging_v1": (
        "twilio_messaging_v1.json",
        [
            ("/v1/a2p/BrandRegistrations", "post"),  # CreateBrandRegistrations
            ("/v1/a2p/BrandRegistrations/{Sid}", "get"),  # FetchBrandRegistrations
            # CreateBrandRegistrationOtp: a sole proprietor's brand sends its contact the OTP again
            ("/v1/a2p/BrandRegistrations/{BrandRegistrationSid}/SmsOtp", "post"),
            ("/v1/Services", "post"),  # CreateService
            ("/v1/Services/{ServiceSid}/PhoneNumbers", "post"),  # CreatePhoneNumber
            # DeletePhoneNumber: a sole proprietor's service keeps one number, the one texts go from (hosting)
            ("/v1/Services/{ServiceSid}/PhoneNumbers/{Sid}", "delete"),
            ("/v1/Services/{MessagingServiceSid}/Compliance/Usa2p", "post"),  # CreateUsAppToPerson
            ("/v1/Services/{MessagingServiceSid}/Compliance/Usa2p/{Sid}", "get"),  # FetchUsAppToPerson
            ("/v1/Tollfree/Verifications", "post"),  # CreateTollfreeVerification
            ("/v1/Tollfree/Verifications/{Sid}", "get"),  # FetchTollfreeVerification
            (
                "/v1/Tollfree/Verifications/{Sid}",
                "post",
            ),  # UpdateTollfreeVerification: resubmit after a rejection
        ],
    ),
    # Hosted SMS (deliverability.hosting): the business's own number hosted at Twilio for texting.
    "numbers_v2": (
        "twilio_numbers_v2.json",
        [
            ("/v2/HostedNumber/Orders", "post"),  # CreateHostedNumberOrder
            ("/v2/HostedNumber/Orders/{Sid}", "get"),  # FetchHostedNumberOrder
            ("/v2/HostedNumber/Orders/{Sid}", "post"),  # UpdateHostedNumberOrder: the verification call
            ("/v2/HostedNumber/Orders/{Sid}", "delete"),  # DeleteHostedNumberOrder: cancel
            ("/v2/HostedNumber/AuthorizationDocuments/{Sid}", "get"),  # FetchAuthorizationDocument: the LOA
            # CreateAuthorizationDocument: the letter sent again (to the same or another email)
            ("/v2/HostedNumber/AuthorizationDocuments", "post"),
        ],
    ),
    # Event Streams (deliverability.streams): a webhook sink and a subscription to A2P registration events. Not in
    # the shared folder: its spec is kept in tests/twilio_fake/openapi/ (see its README).
    "events_v1": (
        "twilio_events_v1.json",
        [
            ("/v1/Sinks", "post"),  # CreateSink
            ("/v1/Subscriptions", "post"),  # CreateSubscription
        ],
    ),
    "lookups_v2": (
        "twilio_lookups_v2.json",
        [
            ("/v2/PhoneNumbers/{PhoneNumber}", "get"),  # FetchPhoneNumber
        ],
    ),
}

DROP_KEYS = {"examples", "example", "x-twilio", "headers"}


def _strip(node, *, keep_description: bool):
    """Copy a spec node without examples/annotations (and without descriptions unless asked)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in DROP_KEYS:
                continue
            if key == "description" and isinstance(value, str) and not keep_description:
                continue
            out[key] = _strip(value, keep_description=keep_description)
        return out
    if isinstance(node, list):
        return [_strip(item, keep_description=keep_description) for item in node]
    return node


def _refs(node, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)


def _subset(doc: dict, wanted: list[tuple[str, str]]) -> dict:
    paths: dict[str, dict] = {}
    for template, method in wanted:
        try:
            operation = doc["paths"][template][method]
        except KeyError as exc:
            raise SystemExit(f"{method.upper()} {template} is not in the spec ({exc})") from exc
        path_item = paths.setdefault(template, {})
        if "servers" in doc["paths"][template]:
            path_item["servers"] = doc["paths"][template]["servers"]
        op = {}
        if "parameters" in operation:
            # Shared parameters ($ref to components/parameters) are inlined; header ones (messaging v1's optional
            # X-Twilio-Api-Version) are left out: the fake checks paths, queries and forms, not headers.
            shared = doc.get("components", {}).get("parameters", {})
            resolved = [
                shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p for p in operation["parameters"]
            ]
            operation = {**operation, "parameters": [p for p in resolved if p.get("in") != "header"]}
        for key in ("operationId", "summary", "parameters", "requestBody", "security"):
            if key in operation:
                # Parameter and request-field descriptions document semantics; keep them.
                op[key] = _strip(operation[key], keep_description=key in ("parameters", "requestBody"))
        # Responses: only the status codes and schemas, no examples or CORS headers.
        op["responses"] = _strip(operation.get("responses", {}), keep_description=False)
        path_item[method] = op

    schemas = doc.get("components", {}).get("schemas", {})
    needed: set[str] = set()
    _refs(paths, needed)
    pending = list(needed)
    while pending:
        name = pending.pop()
        more: set[str] = set()
        _refs(schemas[name], more)
        for extra in more - needed:
            needed.add(extra)
            pending.append(extra)
    components = {
        "securitySchemes": doc.get("components", {}).get("securitySchemes", {}),
        "schemas": {name: _strip(schemas[name], keep_description=False) for name in sorted(needed)},
    }
    info = {key: doc["info"][key] for key in ("title", "version") if key in doc.get("info", {})}
    out = {"openapi": doc["openapi"], "info": info, "servers": doc.get("servers", [])}
    if "security" in doc:
        out["security"] = doc["security"]
    out["paths"] = paths
    out["components"] = components
    return out


def build(spec_dir: Path) -> dict:
    apis = {}
    sources = {}
    for api, (filename, wanted) in OPERATIONS.items():
        source = spec_dir / filename
        if not source.exists():  # a spec the shared folder does not carry (tests/twilio_fake/openapi/)
            source = HERE / "openapi" / filename
        raw = source.read_bytes()
        sources[filename] = hashlib.sha256(raw).hexdigest()
        apis[api] = _subset(json.loads(raw), wanted)
    return {
        "x-generated-by": "tests/twilio_fake/extract_spec.py (do not edit by hand; re-run it)",
        "x-sources": sources,
        "apis": apis,
    }


def render(subset: dict) -> str:
    return json.dumps(subset, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--spec-dir",
        type=Path,
        default=Path(os.environ.get("TWILIO_OPENAPI_DIR", DEFAULT_SPEC_DIR)),
        help=f"folder with twilio_api_v2010.json and twilio_lookups_v2.json (default {DEFAULT_SPEC_DIR})",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output file is out of date")
    args = parser.parse_args(argv)

    text = render(build(args.spec_dir))
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date; run python {Path(__file__).relative_to(REPO_ROOT)}")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(text.encode()):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
