"""What an agency types into the A2P 10DLC registration form for acme, shared by the registration tests."""

DETAILS = {
    "legal_name": "Acme Plumbing LLC",
    "business_type": "Limited Liability Corporation",
    "ein": "12-3456789",
    "vertical": "CONSTRUCTION",
    "website": "https://acme-plumbing.example",
    "street": "1 Main St",
    "city": "Chicago",
    "region": "il",  # typed in lower case; stored and sent to Twilio as "IL"
    "postal_code": "60601",
    "contact_first_name": "Alice",
    "contact_last_name": "Owner",
    "contact_email": "alice@acme.test",
    "contact_phone": "+13125550142",
}
