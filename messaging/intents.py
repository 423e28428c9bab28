"""What a caller's reply is about: booking, a price question, an emergency, an existing job, a wrong number,
spam, an opt-out, or something else; with a confidence and the words that decided it.

Rules only, no network: each intent has phrases with a weight; a reply's intent is the one whose phrases
weigh most, and the confidence says how far it is ahead of the runner-up. An opt-out is the law's reading
(messaging.keywords), ahead of everything. Where no rule speaks, a word model learned from labelled replies
answers when it is fairly sure (below). Measured by bench/intent_accuracy.py (precision and recall per intent)
on the labelled replies in tests/messaging/data/; intents_holdout5.csv is in nothing either part learned or was
tuned on, and is the honest score (over three replies in four; under two in three by the rules alone). A reading acts on
its own only where it is sure (messaging.services files a reply away at 0.8 and up)."""

import csv
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db import models

from .keywords import Keyword, classify, revocation


class Intent(models.TextChoices):
    BOOKING = "booking", "Booking"
    PRICE = "price", "Price question"
    EMERGENCY = "emergency", "Emergency"
    EXISTING_JOB = "existing_job", "Existing job"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    SPAM = "spam", "Spam"
    OPT_OUT = "opt_out", "Opt-out"
    OTHER = "other", "Other"


@dataclass(frozen=True)
class Reading:
    intent: Intent
    confidence: float  # 0 to 1: how far the intent is ahead of the next
    words: str  # the words that decided, as folded ("how much", "burst pipe"); blank for "other"


_DAYS = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)(?:day)?"
_TRADES = (
    r"(?:plumber|electrician|roofer|tech|technician|someone|somebody|a guy|dentist|cleaning|checkup|estimate|"
    r"inspection|quote)"
)

# After "this is not", words that make it a complaint, not a wrong number.
_NOT_A_NAME = (
    r"(?:working|fixed|right|ok|okay|good|acceptable|what|how|the|a|an|my|your|our|over|done|true|fair|helpful|"
    r"going|enough|funny|normal|safe|resolved|finished|draining|heating|cooling|cool|fun|cheap|cheaper|it|me)"
)

# (intent, pattern, weight). Heavier is surer; several light ones add up.
_RULES: list[tuple[Intent, str, float]] = [
    # --- Emergency: now, and dangerous or damaging ---
    (Intent.EMERGENCY, r"\bemergenc(?:y|ies)\b", 4),
    (Intent.EMERGENCY, r"\burgent(?:ly)?\b", 3),
    (Intent.EMERGENCY, r"\bflood(?:ing|ed)?\b", 3),
    (Intent.EMERGENCY, r"\bburst\b|\bbusted pipe\b|\bpipe (?:broke|exploded|split)\b", 3),
    (Intent.EMERGENCY, r"\bgas (?:leak|smell)\b|\bsmell(?:s)? (?:like )?gas\b", 4),
    (Intent.EMERGENCY, r"\bsparks?\b|\bsparking\b|\bsmok(?:e|ing)\b|\bon fire\b|\bburning smell\b", 4),
    (Intent.EMERGENCY, r"\bcarbon monoxide\b|\bco alarm\b|\bexposed wires?\b|\belectrocut", 4),
    (
        Intent.EMERGENCY,
        r"\bwater (?:is )?(?:everywhere|pouring|gushing|spraying)\b|\bpouring (?:in|out|through)\b",
        3,
    ),
    (Intent.EMERGENCY, r"\bsewage\b|\bbacking up\b|\boverflowing\b", 2.5),
    (Intent.EMERGENCY, r"\bno (?:heat|power|electricity|water)\b|\bpower(?: is)? out\b", 2),
    (
        Intent.EMERGENCY,
        r"\bceiling (?:is )?(?:leaking|caving|collapsing|coming down|dripping)\b|\bcaved in\b",
        3,
    ),
    (
        Intent.EMERGENCY,
        r"\btree (?:fell|came down|went through)\b|\broof (?:blew|ripped|tore) off\b|\bhole in (?:the|my|our) roof\b",
        3,
    ),
    (
        Intent.EMERGENCY,
        r"\b(?:severe|terrible|unbearable|excruciating) (?:pain|toothache)\b|\bswollen\b|\bswelling\b|\bbleeding\b|\bknocked out\b",
        3,
    ),
    (Intent.EMERGENCY, r"\bright now\b|\bright away\b|\bimmediately\b|\basap\b|\bhelp(?: me)?!", 1.5),
    (Intent.EMERGENCY, r"\btonight\b|\bas soon as possible\b|\bcant wait\b", 1),
    (Intent.EMERGENCY, r"\bcaught fire\b|\bfire\b", 3),
    # Something gave way, or water is where it must not be: in the words people use.
    (
        Intent.EMERGENCY,
        r"\b(?:exploded|bursting|blew out|blown out|gave way|fell in|collapsed|ripped|tore off|cracked in half)\b"
        r"|\bwater (?:is )?(?:all over|coming (?:in|out|through|up|down)|dripping (?:through|from|out of)|on the floor)"
        r"|\b(?:floor|carpet|basement|ceiling|walls?) (?:is |are )?(?:soaked|soaking|under water|underwater|flooded)\b"
        r"|\b(?:rain(?:ing)?|water) (?:is )?(?:coming|pouring|getting) (?:in|inside)\b|\braining inside\b",
        3,
    ),
    # Water and electricity together, or heat, smoke and gas by their signs.
    (
        Intent.EMERGENCY,
        r"\b(?:water|leak(?:ing)?|dripping|wet)\b.{0,40}\b(?:electrical|panel|breaker box|outlet|light fixture|wiring)\b"
        r"|\b(?:electrical|panel|outlet|light fixture)\b.{0,30}\b(?:water|leak(?:ing)?|dripping|wet)\b",
        3,
    ),
    (
        Intent.EMERGENCY,
        r"\bsmell(?:s|ing)? (?:something |like )?(?:burning|smoke|rotten eggs?|sulfur)\b|\bburning (?:plastic|rubber)\b"
        r"|\brotten eggs?\b|\bis (?:that|it) gas\b|\bsparked\b|\bbuzzing\b.{0,30}\bhot\b|\bhot to the touch\b"
        r"|\b(?:co|carbon monoxide|smoke) (?:detector|alarm)\b|\bdetector is going off\b",
        4,
    ),
    (
        Intent.EMERGENCY,
        r"\b(?:heat|heater|furnace|boiler) (?:is |went )?(?:out|dead|off)\b.{0,60}\b(?:degrees|freezing|below zero|cold"
        r"|baby|infant|elderly|kids)\b|\bbelow (?:zero|freezing)\b",
        3,
    ),
    (
        Intent.EMERGENCY,
        r"\b(?:in (?:a lot of|so much|severe|terrible) pain|in agony|killing me|nerve is exposed|abscess|infection"
        r"|cant (?:eat|sleep|open my mouth)|can barely open)\b",
        3,
    ),
    (
        Intent.EMERGENCY,
        r"\bplease hurry\b|\bhurry\b|\bwont stop\b|\bcant (?:find the shut ?off|stop it)\b",
        1.5,
    ),
    # --- Wrong number: they never meant to reach this business ---
    (Intent.WRONG_NUMBER, r"\bwrong (?:number|person|#|no\b|guy|girl|lady|business|company|one)", 5),
    (Intent.WRONG_NUMBER, r"\bwho (?:is|dis|this is)(?: this)?\b|\bwho are you\b|\bwhos this\b", 2),
    (Intent.WRONG_NUMBER, r"\b(?:i )?(?:didnt|did not|never) call(?:ed)?(?: you| anyone| this number)?\b", 3),
    (
        Intent.WRONG_NUMBER,
        r"\b(?:butt|pocket)[ -]?dial|\bmis ?dial|\bcalled (?:by|this number by) (?:mistake|accident)\b|\bby accident\b|\bby mistake\b",
        4,
    ),
    (
        # "This isn't Mike" is a wrong number; "this is not working" is a customer with a problem.
        Intent.WRONG_NUMBER,
        rf"\bthis (?:isnt|is not) (?!{_NOT_A_NAME}\b)\w+(?:s (?:phone|number|cell))?(?: [.!?,]|[.!?,]|$)"
        r"|\bno(?:body| one) (?:here )?(?:by that name|named)\b",
        2.5,
    ),
    (
        Intent.WRONG_NUMBER,
        r"\bdont know (?:you|who (?:you are|this is))\b|\bhave the wrong\b|\bnot who you think\b",
        3,
    ),
    (Intent.WRONG_NUMBER, r"\bmeant to (?:call|text|dial)\b|\bplaying (?:with|on) my phone\b", 3),
    (
        Intent.WRONG_NUMBER,
        r"\bdont (?:know|recognize) (?:this|your|the) (?:number|#)\b|\b(?:trying|tried) to (?:reach|call|text|get (?:a"
        r" ?hold of|hold of)) (?:my|someone else|somebody else)\b|\bthat was (?:my|our) (?:kid|kids|son|daughter|toddler|baby|child|grandson|granddaughter)\b"
        r"|\b(?:kid|kids|son|daughter|toddler|baby|child) (?:was |were )?playing with (?:my|the) phone\b"
        r"|\bdialed (?:you |this )?(?:by mistake|wrong)\b|\bnot looking for a\b",
        3,
    ),
    # --- Spam: selling to the business, or a scam ---
    # A link alone is no sign: callers send photos, their address on a map, the booking page. It adds to others.
    (Intent.SPAM, r"https?://|\bwww\.|\b\w+\.(?:com|net|io|ly|xyz|biz|info|co)/", 1),
    (
        Intent.SPAM,
        r"\bseo\b|\bgoogle (?:ranking|reviews|listing|business profile|maps)\b|\bfirst page of google\b",
        4,
    ),
    (
        Intent.SPAM,
        r"\b(?:more|new|qualified|exclusive) (?:leads|customers|clients|reviews|calls)\b|\blead gen",
        3,
    ),
    (
        Intent.SPAM,
        r"\bcongratulations\b|\byou(?:ve)? (?:won|been selected)\b|\bwinner\b|\bprize\b|\bgift ?card\b|\bclaim (?:your|now)\b",
        4,
    ),
    (
        Intent.SPAM,
        r"\bcrypto|\bbitcoin\b|\binvest(?:ment|ing)? opportunit|\bbusiness (?:loan|funding|financing)\b|\bmerchant (?:services|cash)\b|\bwork(?:ing)? capital\b",
        4,
    ),
    (
        Intent.SPAM,
        r"\bverify your (?:account|identity)\b|\baccount (?:has been )?(?:suspended|locked)\b|\bact now\b|\blimited time\b",
        4,
    ),
    (
        Intent.SPAM,
        r"\bwebsite (?:design|redesign|traffic)\b|\bmarketing (?:services|agency)\b|\bgrow your business\b|\byour business\b|\bbusiness owner\b",
        2.5,
    ),
    (
        Intent.SPAM,
        r"\bfree (?:trial|demo|consultation for your)\b|\bpre-?approved\b|\bunsubscribe (?:at|here)\b",
        2.5,
    ),
    (Intent.SPAM, r"\bkindly\b|\bdear\b|\bselected\b|\bfree cruise\b|\bnew patients\b|\bredesign\b", 3),
    (Intent.SPAM, r"\bfinal notice\b|\b(?:vehicle|car|auto) warranty\b|\bmerchant services\b", 5),
    (
        Intent.SPAM,
        r"\bearn \$|\bwork from home (?:job|opportunit)|\bfrom home\b.{0,20}\b(?:earn|income|\$)|\btext \w+ to (?:apply|claim|join|win)\b|\breply yes for\b"
        r"|\bpress 1\b|\bclick (?:here|the link|below)\b|\btap here\b|\bviewed your profile\b|\bdouble your money\b|\bbuyers?\b.{0,30}\bbusiness\b|\bselling your business\b",
        4,
    ),
    (
        Intent.SPAM,
        r"\b(?:package|parcel|delivery) (?:could not|couldnt|cannot|was not|failed)\b|\busps|\bfedex\b|\bredelivery\b"
        r"|\b(?:apple id|netflix|paypal|amazon|bank) (?:account )?(?:is )?(?:locked|on hold|suspended)\b"
        r"|\bon hold\b.{0,30}\bpayment\b|\bupdate (?:your )?payment\b|\bconfirm (?:your )?details\b",
        4,
    ),
    (
        Intent.SPAM,
        r"\bwe (?:help|build|offer|send|provide|work with) (?:\w+ ){0,2}(?:companies|businesses|contractors|plumbers"
        r"|roofers|electricians|dentists|leads|websites|owners)\b|\b(?:homeowner|plumbing|roofing|hvac|exclusive) leads\b"
        r"|\bleads (?:daily|every|in your area)\b|\bbooked jobs\b|\bwebsites? for\b|\bmonthly fee\b"
        r"|/mo\b|\bline of credit\b|\bno credit check\b|\bapproved in\b|\breviews? (?:program|package)\b"
        r"|\bboost your\b|\bpage (?:1|one) of google\b|\bfree (?:audit|iphone|ipad)\b",
        3,
    ),
    # --- Existing job: work we did, or an appointment already made ---
    (
        Intent.EXISTING_JOB,
        r"\binvoice\b|\breceipt\b|\bwarranty\b|\bguarantee\b|\bwork order\b|\bjob (?:number|#)\b",
        3,
    ),
    (
        Intent.EXISTING_JOB,
        r"\b(?:your|the) (?:tech|technician|guy|guys|plumber|electrician|crew|roofer|hygienist|dentist|installer) (?:was|came|left|is|said|fixed|did|put|installed|replaced|told)\b",
        3,
    ),
    (
        Intent.EXISTING_JOB,
        r"(?<!can )(?<!could )(?<!would )(?<!will )\byou(?: guys)? (?:came|were here|did|fixed|installed|replaced|repaired|worked on|put in|cleaned)\b",
        3,
    ),
    (
        Intent.EXISTING_JOB,
        r"\bstill (?:leaking|broken|not working|dripping|clogged|running|hurts|sore|tripping|no)\b|\bagain\b|\bsame (?:problem|issue|leak)\b",
        2,
    ),
    (Intent.EXISTING_JOB, r"\bfollow(?:ing)?[ -]up\b|\bcheck(?:ing)? on (?:my|the|our)\b|\bstatus of\b", 2.5),
    (
        Intent.EXISTING_JOB,
        r"\b(?:my|our|the) (?:appointment|appt|booking|visit|cleaning|install(?:ation)?|repair) (?:is|was|on|at|for|tomorrow|today|this|next)\b",
        3,
    ),
    (
        Intent.EXISTING_JOB,
        r"\bre-?schedule\b|\bmove (?:my|our|the) (?:appointment|appt|visit)\b|\bcancel (?:my|our|the) (?:appointment|appt|visit|booking)\b|\bconfirm(?:ing)? (?:my|our|the) (?:appointment|appt|visit)\b",
        3.5,
    ),
    (
        Intent.EXISTING_JOB,
        r"\brunning late\b|\bon (?:his|their|the|your) way\b|\beta\b|\bwhat time (?:is|will) (?:the tech|he|she|they|someone|your)\b|\bstill coming\b",
        3,
    ),
    (
        Intent.EXISTING_JOB,
        r"\b(?:i|we) (?:paid|already paid)\b|\bbill(?:ed)? (?:me|us|twice)\b|\bcharged (?:me|us|twice)\b|\brefund\b",
        4,
    ),
    (
        Intent.EXISTING_JOB,
        r"\blast (?:week|month|time|year|visit)\b|\byesterday\b|\bthe other day\b|\bbefore\b",
        1,
    ),
    (Intent.EXISTING_JOB, r"\b(?:my|our|his|her|sons|daughters|wifes|husbands) (?:appointment|appt)\b", 3),
    (
        Intent.EXISTING_JOB,
        r"\b(?:was|were|came) (?:here|out|by)\b|\bafter the (?:repair|visit|install|fix)\b",
        2.5,
    ),
    (
        Intent.EXISTING_JOB,
        r"\bany (?:update|news|word)\b|\bupdate on\b|\bthe part\b|\bparts? (?:came|come|arrived|in yet)\b|\bpermit\b"
        r"|\bthe (?:photos|pictures|pics) i sent\b|\bi sent (?:you )?(?:the )?(?:photos|pictures|pics)\b"
        r"|\bsupposed to (?:arrive|come|be here|call)\b|\b(?:my|our|the) (?:technician|tech|plumber|electrician|guy"
        r"|installer|crew)\b.{0,20}\b(?:coming|arrive|here|said)\b|\byour guy\b|\bhavent (?:got|gotten|received|heard)\b",
        2.5,
    ),
    (
        Intent.EXISTING_JOB,
        r"\b(?:push|move|change|switch|bump) (?:my|our|the|\w+s) (?:\w+ )?(?:appointment|appt|cleaning|visit|booking"
        r"|install|repair|time)\b|\bconfirming\b|\bi have an? (?:appointment|appt)\b|\bstill on for\b"
        r"|\bis (?:my|our|the) (?:appointment|appt|visit)\b|\b(?:you|u) (?:installed|replaced|fixed|did|cleared|"
        r"cleaned|repaired) (?:in )?(?:my|our|the)?\b|\bthe \w+ you (?:put in|installed|replaced|fixed|cleared"
        r"|cleaned|repaired)\b|\b(?:from|since) (?:last|the) (?:spring|summer|fall|winter|week|month|year|visit)\b",
        3,
    ),
    (
        Intent.EXISTING_JOB,
        r"\bpayment i made\b|\bpay by (?:check|card|cash)\b|\bcopy of (?:the|my) invoice\b",
        3,
    ),
    # --- Price: what it costs ---
    (Intent.PRICE, r"\bhow much\b|\bwhats the (?:price|cost|charge|fee|rate)\b", 4),
    (Intent.PRICE, r"\bprices?\b|\bpricing\b|\bcosts?\b|\bcharge(?:s)?\b|\bfees?\b|\brates?\b", 2.5),
    (Intent.PRICE, r"\bquote\b|\bestimate\b|\bballpark\b|\bball park\b", 1.5),
    (Intent.PRICE, r"\$\s?\d|\bdollars\b|\bexpensive\b|\bcheap(?:er|est)?\b|\bafford\b|\bbudget\b", 2),
    (
        Intent.PRICE,
        r"\binsurance\b|\bfinancing\b|\bpayment plans?\b|\bcoupon\b|\bdiscount\b|\bspecials?\b|\bfree estimates?\b|\bcredit cards?\b|\bdo you (?:take|accept)\b",
        2.5,
    ),
    (Intent.PRICE, r"\bcharge for\b|\bcost to\b|\bhow much (?:is|are|do|does|would|will)\b", 1),
    (Intent.PRICE, r"\bwhat do you charge\b|\bestimates? (?:are |is )?free\b", 4),
    (
        Intent.PRICE,
        r"\bdiscounts?\b|\bpricey\b|\brough (?:idea|number|price)\b|\b(?:run|set) me back\b|\brun me\b"
        r"|\bhourly\b|\bcharge extra\b|\bextra for\b|\btrip fee\b"
        r"|\bis (?:it|the (?:consultation|consult|estimate|quote|exam|inspection|visit|first visit)|there a \w+) free\b"
        r"(?! (?:on|at|to|for|tomorrow|today|this|next))"
        r"|\bpayment plans?\b|\bgoing to cost\b|\bwould (?:it|that|a \w+(?: \w+)?) cost\b|\bmedicaid\b|\bmedicare\b"
        r"|\bdelta dental\b|\bcigna\b|\baetna\b",
        2.5,
    ),
    # --- Booking: come and do the work ---
    (Intent.BOOKING, r"\bbook(?:ing)?\b|\bschedul(?:e|ing)\b|\bappointments?\b|\bappt\b", 3),
    (
        Intent.BOOKING,
        r"\b(?:come|stop) (?:out|over|by|today|tomorrow|tonight|this|on|at|in|look)\b|\bcome take a look\b|\bsend (?:someone|somebody|a tech|a guy|out)\b",
        3,
    ),
    (
        Intent.BOOKING,
        r"\bavailab(?:le|ility)\b|\bopenings?\b|\bany time\b|\bwhen can (?:you|someone|u)\b|\bcan you (?:come|do|fit|make it|squeeze)\b|\bfit (?:me|us) in\b",
        3,
    ),
    (
        Intent.BOOKING,
        rf"\b{_DAYS}\b|\b\d{{1,2}}(?::\d\d)? ?(?:am|pm)\b|\bmorning\b|\bafternoon\b|\bevening\b|\bthis week\b|\bnext week\b",
        1.5,
    ),
    (
        Intent.BOOKING,
        rf"\bneed (?:a|an|to get|someone to|you to)\b|\blooking for (?:a|an)\b|\bneed {_TRADES}\b|\bwant(?:ed)? (?:a|an|to get)\b",
        2,
    ),
    (
        Intent.BOOKING,
        r"\b(?:leak(?:ing|y)?|clog(?:ged)?|drip(?:ping)?|broken|not working|wont (?:turn|start|flush|drain)|replace|install|repair|fix|clean(?:ing)?|checkup|crown|filling|whitening|outlet|breaker|panel|shingles?|gutters?|water heater|toilet|faucet|sink|drain|furnace|ac|tooth)\b",
        1,
    ),
    (
        Intent.BOOKING,
        r"\byes\b|\byeah\b|\byep\b|\bsure\b|\bplease do\b|\bsounds good\b|\bthat works\b|\bworks for me\b|\bplease call\b|\bcall me\b",
        1,
    ),
    (
        Intent.BOOKING,
        r"\b(?:how soon|soonest|next available|first available|earliest)\b|\bwhen (?:could|can|would) (?:you|someone"
        r"|u|a tech)\b|\b(?:get|send) (?:someone|somebody|a tech|a guy|you) (?:out|over|here)\b|\bget (?:out|over) here\b"
        r"|\bget on (?:your|the) (?:calendar|schedule|list)\b|\bcalendar\b|\bwhat (?:times|days|time slots) do you have\b"
        r"|\bset (?:me|us|something|it) up\b|\bset up (?:a|an)\b|\blets do it\b|\bcan we do\b|\bwhat day can\b"
        r"|\b(?:id|i would|we would|wed) like (?:a|an|to get|to have|to book|someone)\b|\bconsult(?:ation)?\b"
        r"|\binspection\b|\btune[ -]?up\b|\bmeasure\b|\bswap out\b|\bwant it (?:replaced|fixed|looked at|done)\b"
        r"|\bcould someone\b|\bsomeone (?:to )?(?:look|check|come)\b",
        2.5,
    ),
    # "Who is this? I called about my furnace": a caller of ours, not a wrong number.
    (Intent.BOOKING, r"\bi (?:just |had |have )?(?:called|rang|phoned) (?:about|for|regarding|re)\b", 2.5),
    (
        Intent.BOOKING,
        r"\btake a look\b|\bcome (?:check|see|fix)\b|\bset up a time\b|\bearliest\b|\bbring \w+ in\b|\bput in\b|\b(?:cleaned|installed|replaced|fixed|looked at)\b",
        2,
    ),
]
_COMPILED = [(intent, re.compile(pattern), weight) for intent, pattern, weight in _RULES]
# The strong signs of a wrong number, read even in a reply that also opts out ("Wrong number, stop").
_WRONG_NUMBER_SURE = 3

_APOSTROPHES = re.compile(r"[’'`´ʼ]")
_SPACES = re.compile(r"\s+")


def _fold(body: str) -> str:
    """Lower case, look-alikes folded, apostrophes dropped ("don't" → "dont"), spacing single; punctuation kept
    (links, prices and "help!" are read by it)."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", body).casefold())
    return _SPACES.sub(" ", text).strip()


def intent_of(body: str) -> Reading:
    """The intent of a caller's reply (rules, no network)."""
    if classify(body) == Keyword.OPT_OUT:
        return Reading(Intent.OPT_OUT, 1.0, _fold(body))
    revoked = revocation(body)
    if revoked is not None and revoked.certain:
        return Reading(Intent.OPT_OUT, 0.95, revoked.words)
    text = _fold(body)
    scores: dict[Intent, float] = {}
    deciding: dict[Intent, list[tuple[float, str]]] = {}
    for intent, pattern, weight in _COMPILED:
        match = pattern.search(text)
        if match:
            scores[intent] = scores.get(intent, 0) + weight
            deciding.setdefault(intent, []).append((weight, match.group(0).strip(" !")))
    if revoked is not None:  # might be asking to stop: a person decides (the inbox flags it)
        scores[Intent.OPT_OUT] = scores.get(Intent.OPT_OUT, 0) + 2
        deciding.setdefault(Intent.OPT_OUT, []).append((2, revoked.words))
    if not scores:
        return _learned(text)
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    best, score = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if score < 1.5:  # one light hint ("yes", "tomorrow") is not enough to say
        return _learned(text)
    confidence = round(min(0.99, score / (score + runner_up + 1)), 2)
    chosen: list[str] = []
    for _, found in sorted(deciding[best], key=lambda item: item[0], reverse=True):
        if not any(found in other or other in found for other in chosen):  # "how much" and "how much do"
            chosen.append(found)
    return Reading(best, confidence, ", ".join(chosen[:3])[:100])


# --- Where no rule speaks: a word model ------------------------------------------------------------------
# Rules miss phrasings they never saw ("sump pump keeps cycling", "the guy who came Tuesday left his drill"). Where
# no rule says anything, a naive Bayes model over the words and word pairs of labelled replies
# (messaging/data/intent_examples.csv) is asked; it answers only when it is fairly sure, never an opt-out (that is
# the law's reading alone), and never surely enough for a rule to file the reply away (its confidence is capped
# below messaging.services.FILING_CONFIDENCE): it sorts the inbox and alerts, it does not close anything.
EXAMPLES = Path(__file__).parent / "data" / "intent_examples.csv"
_SMOOTHING = 0.3
_LEARNED_SURE = 0.9  # the model's probability for its best intent, below which the reply stays "other"
_LEARNED_CAP = 0.75
_COMMON = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "we",
        "you",
        "u",
        "my",
        "our",
        "your",
        "is",
        "are",
        "was",
        "to",
        "of",
        "for",
        "and",
        "or",
        "it",
        "this",
        "that",
        "on",
        "in",
        "at",
        "me",
        "us",
        "be",
        "do",
        "can",
    ]
)


def _features(text: str) -> set[str]:
    words = ["<n>" if w.isdigit() else w for w in re.findall(r"[a-z0-9$#]+", text)]
    return {w for w in words if w not in _COMMON} | {
        f"{a} {b}" for a, b in zip(words, words[1:], strict=False)
    }


@dataclass(frozen=True)
class _Model:
    replies: Counter  # intent → labelled replies
    seen: dict[str, Counter]  # intent → feature → replies it is in
    totals: dict[str, int]
    vocabulary: frozenset[str]


@cache
def _model() -> _Model:
    replies: Counter = Counter()
    seen: dict[str, Counter] = {}
    with EXAMPLES.open(newline="") as handle:
        for row in csv.DictReader(handle):
            replies[row["intent"]] += 1
            seen.setdefault(row["intent"], Counter()).update(_features(_fold(row["text"])))
    vocabulary = frozenset(feature for counts in seen.values() for feature in counts)
    return _Model(replies, seen, {intent: sum(c.values()) for intent, c in seen.items()}, vocabulary)


def _learned(text: str) -> Reading:
    """The word model's reading of a reply no rule spoke about (`text` folded), or "other"."""
    model = _model()
    known = sorted(_features(text) & model.vocabulary)
    if len(known) < 2:
        return Reading(Intent.OTHER, 0.5, "")
    size = len(model.vocabulary)

    def weight(intent: str, feature: str) -> float:
        return math.log(
            (model.seen[intent][feature] + _SMOOTHING) / (model.totals[intent] + _SMOOTHING * size)
        )

    scores = {
        intent: math.log(count) + sum(weight(intent, f) for f in known)
        for intent, count in model.replies.items()
    }
    best = max(scores, key=scores.__getitem__)
    top = scores[best]
    probability = 1 / sum(math.exp(score - top) for score in scores.values())
    if best in (Intent.OPT_OUT, Intent.OTHER) or probability < _LEARNED_SURE:
        return Reading(Intent.OTHER, 0.5, "")
    # The words that pointed most to it, against the others.
    telling = sorted(
        known,
        key=lambda f: weight(best, f) - max(weight(other, f) for other in scores if other != best),
        reverse=True,
    )
    return Reading(Intent(best), round(min(probability, _LEARNED_CAP), 2), ", ".join(telling[:3])[:100])


def says_wrong_number(body: str) -> bool:
    """Whether the reply says plainly it reached the wrong number, whatever else it says ("Wrong number, stop"
    is an opt-out and a wrong number both)."""
    text = _fold(body)
    return any(
        intent == Intent.WRONG_NUMBER and weight >= _WRONG_NUMBER_SURE and pattern.search(text)
        for intent, pattern, weight in _COMPILED
    )
