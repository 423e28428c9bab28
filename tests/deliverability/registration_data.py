"""What is typed into acme's A2P 10DLC registration form and its Hosted SMS order form, shared by their tests."""

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

# The Hosted SMS order for acme's own line (+13125550142), as its owner types it on /settings/texting-number/.
HOSTING_ORDER = {
    "action": "order",
    "phone_number": "(312) 555-0142",
    "contact_name": "Alice Owner",
    "contact_title": "Owner",
    "contact_email": "alice@acme.test",
    "contact_phone": "+13125550199",
    "street": "1 Main St",
    "city": "Chicago",
    "region": "il",
    "postal_code": "60601",
}
