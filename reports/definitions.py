"""What each number of the funnel counts, written once as queries over a client's own tables. The nightly
rebuild of the public roll-ups (reports.rollups) reads these; the event receivers (reports.receivers) keep the
roll-ups equal to them as events happen, and tests/reports prove it. Every report, export, email and the API
read the roll-ups (reports.selectors), never these tables, so every number has this one definition.

- calls: Call rows, on the day the call started.
- missed calls (and after hours: in_business_hours is False), answered calls: by Call.outcome, same day;
  missed calls by the hour they started at, on the client's clock.
- text-backs sent: Message kind=textback handed to the provider (sent_at set), on the day it was sent.
- text-backs skipped, by reason: the public ledger's text-back rows that ended skipped or failed for good, on
  the day the call was missed.
- replies: text-backs followed by a text from the caller (an opt-out or opt-in keyword is not a reply; it counts
  as an opt-out) before the next text-back to them; on the text-back's day. Reply rate = replies / sent.
- answered by staff: replies followed by a staff reply that went out, before the next text-back; the time to
  first staff reply runs from the caller's first reply to the first such staff reply (when staff wrote it),
  kept per text-back in reports.FirstStaffReply for the median and 90th percentile.
- booked, won: crm.Outcome rows recorded that day; recovered revenue: the sum of won values. Booked pending:
  booked outcomes that are still the contact's latest; the estimate is those × the client's average job value.
- per template (the client's report, "What works in the texts"; not in the roll-ups): each text-back by its
  template and wording, and each follow-up, is replied to, booked or opted out of when that happens before the
  next such text to the conversation (texts_by_template). Rates are per text sent.
- opt-outs: ConsentEvent opt-outs of a number that was not opted out already (a second STOP is recorded in the
  history but is not another opt-out); delivery failures: outbound texts of any kind that the provider or the
  carrier failed with an error code (failed or undelivered), on the day they were written. A text our own
  send-time check stopped (the caller opted out meanwhile) has no error code and is not a delivery failure.
"""

import json
from datetime import datetime

from django.db import connection, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery

from messaging.models import ConsentEvent, Message, OutboundSend

# The correlated look-ups make the planner's cost estimate large enough to switch JIT compilation on, which
# then costs more than the query (hundreds of ms for a query that runs in tens): off, for this transaction.
NO_JIT = "SET LOCAL jit = off"

FAILED_STATUSES = (Message.Status.FAILED, Message.Status.UNDELIVERED)
SKIPPED_STATES = (OutboundSend.State.SKIPPED, OutboundSend.State.FAILED)


def opt_outs(*, start: datetime, end: datetime) -> QuerySet:
    previous = (
        # The number's own history: it outlives contact rows (merged, deleted, re-created).
        ConsentEvent.objects.filter(phone_number=OuterRef("phone_number"))
        .filter(
            Q(created_at__lt=OuterRef("created_at"))
            | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id"))
        )
        .order_by("-created_at", "-id")
    )
    return (
        ConsentEvent.objects.filter(kind=ConsentEvent.Kind.OPT_OUT, created_at__gte=start, created_at__lt=end)
        .alias(previous_kind=Subquery(previous.values("kind")[:1]))
        .filter(Q(previous_kind__isnull=True) | Q(previous_kind=ConsentEvent.Kind.OPT_IN))
    )


def keyword_sids() -> QuerySet:
    """The provider ids of texts that were an opt-out or opt-in keyword (STOP, START …), or asked to stop in
    other words ("please stop texting me"): not replies."""
    return (
        ConsentEvent.objects.filter(source__in=[ConsentEvent.Source.KEYWORD, ConsentEvent.Source.REPLY])
        .exclude(message_sid="")
        .values("message_sid")
    )


def skipped_textbacks(*, client, start: datetime, end: datetime) -> QuerySet:
    """Text-backs owed for calls missed in [start, end) that did not go out (skipped, or failed for good)."""
    return OutboundSend.objects.filter(
        client=client,
        kind=OutboundSend.Kind.TEXT_BACK,
        state__in=SKIPPED_STATES,
        event_at__gte=start,
        event_at__lt=end,
    )


def delivery_failures(*, start: datetime, end: datetime) -> QuerySet:
    return Message.objects.filter(
        direction=Message.Direction.OUTBOUND,
        status__in=FAILED_STATUSES,
        error_code__isnull=False,
        created_at__gte=start,
        created_at__lt=end,
    )


# Every text-back from `start` on, with the first reply to it and the first staff answer to that reply.
# MATERIALIZED: each correlated look-up runs once per text-back, not once per place the outer query names it.
# %(start)s / %(end)s bound the text-backs; %(tz)s is the client's zone for the day a row falls on.
_CHAIN = """
WITH tb AS (
    SELECT m.id, m.conversation_id, m.sent_at,
           LEAD(m.sent_at) OVER (PARTITION BY m.conversation_id ORDER BY m.sent_at, m.id) AS next_at
    FROM messaging_message m
    WHERE m.kind = 'textback' AND m.sent_at IS NOT NULL AND m.sent_at >= %(start)s
), chain AS MATERIALIZED (
    SELECT tb.*, (
        SELECT min(i.created_at) FROM messaging_message i
        WHERE i.conversation_id = tb.conversation_id AND i.direction = 'in'
          AND i.created_at >= tb.sent_at AND (tb.next_at IS NULL OR i.created_at < tb.next_at)
          AND NOT EXISTS (SELECT 1 FROM messaging_consentevent c
                          WHERE c.source IN ('keyword', 'reply') AND c.message_sid = i.provider_sid)
    ) AS replied_at
    FROM tb WHERE tb.sent_at < %(end)s
), answered AS MATERIALIZED (
    SELECT chain.*, (
        SELECT min(s.created_at) FROM messaging_message s
        WHERE s.conversation_id = chain.conversation_id AND s.kind = 'reply' AND s.sent_at IS NOT NULL
          AND s.created_at >= chain.replied_at AND (chain.next_at IS NULL OR s.created_at < chain.next_at)
    ) AS staff_at
    FROM chain
)
"""


def textback_chain_by_day(*, start: datetime, end: datetime, tz: str) -> dict:
    """{local date: (sent, replies, answered by staff)} for text-backs sent in [start, end)."""
    sql = (
        _CHAIN
        + """
    SELECT (sent_at AT TIME ZONE %(tz)s)::date AS day, count(*), count(replied_at), count(staff_at)
    FROM answered GROUP BY day
    """
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(NO_JIT)
        cursor.execute(sql, {"start": start, "end": end, "tz": tz})
        return {day: (sent, replies, answered) for day, sent, replies, answered in cursor.fetchall()}


def first_staff_replies_insert(
    *, client_id: int, table: str, tz: str, start: datetime, end: datetime
) -> None:
    """Write the wait for the first staff reply of every answered text-back sent in [start, end) into `table`
    (reports.FirstStaffReply), on the text-back's local day. Run in the client's schema."""
    sql = (
        _CHAIN
        + f"""
    INSERT INTO {table} (client_id, date, textback_id, wait_seconds)
    SELECT %(client)s, (sent_at AT TIME ZONE %(tz)s)::date, id, round(extract(epoch FROM staff_at - replied_at))
    FROM answered WHERE staff_at IS NOT NULL
    """
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(NO_JIT)
        cursor.execute(sql, {"start": start, "end": end, "client": client_id, "tz": tz})


# What each text the business sends on its own (a text-back from a template, a follow-up) led to, before the
# next such text to the same conversation: a reply from the caller (not a keyword or a request to stop), a
# booking (an outcome booked or won), an opt-out of the number. Grouped by template kind and wording (A/B).
# Read from the client's own tables for one client and one period: the roll-ups do not keep it per template.
_TEXTS = """
WITH t AS (
    SELECT m.id, m.conversation_id, m.to_number, m.sent_at,
           CASE WHEN m.kind = 'textback' THEN m.template_kind ELSE m.kind END AS template,
           m.template_variant AS variant,
           LEAD(m.sent_at) OVER (PARTITION BY m.conversation_id ORDER BY m.sent_at, m.id) AS next_at
    FROM messaging_message m
    WHERE m.direction = 'out' AND m.kind IN ('textback', 'followup') AND m.sent_at IS NOT NULL
      AND m.sent_at >= %(start)s
)
SELECT t.template, t.variant, count(*) AS sent,
    count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM messaging_message i
        WHERE i.conversation_id = t.conversation_id AND i.direction = 'in'
          AND i.created_at >= t.sent_at AND (t.next_at IS NULL OR i.created_at < t.next_at)
          AND NOT EXISTS (SELECT 1 FROM messaging_consentevent c
                          WHERE c.source IN ('keyword', 'reply') AND c.message_sid = i.provider_sid)
    )) AS replied,
    count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM crm_outcome o JOIN messaging_conversation v ON v.contact_id = o.contact_id
        WHERE v.id = t.conversation_id AND o.kind IN ('booked', 'won')
          AND o.created_at >= t.sent_at AND (t.next_at IS NULL OR o.created_at < t.next_at)
    )) AS booked,
    count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM messaging_consentevent c
        WHERE c.phone_number = t.to_number AND c.kind = 'opt_out'
          AND c.created_at >= t.sent_at AND (t.next_at IS NULL OR c.created_at < t.next_at)
    )) AS opted_out
FROM t WHERE t.sent_at < %(end)s
GROUP BY t.template, t.variant
"""


def texts_by_template(*, start: datetime, end: datetime) -> list[tuple[str, str, int, int, int, int]]:
    """(template, variant, sent, replied, booked, opted out) for the texts sent in [start, end). Run in the
    client's schema."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(NO_JIT)
        cursor.execute(_TEXTS, {"start": start, "end": end})
        return cursor.fetchall()


# --- After the text-back (the caller's side), read from each client's own tables --------------------------------
# Not in the roll-ups (reports.selectors.after_textback): follow-ups by the day they went and whether the caller
# answered them, voicemails by the day the call started, and what callers' texts were about (messaging.intents) on
# the day they came. One SELECT a client, joined with UNION ALL into one statement for any number of clients (the
# agency's report), each part reading its own schema's tables by their qualified names over its own [start, end)
# (each client's local days).
# - follow-ups sent: Message kind=followup handed to the provider (sent_at set) in the period, whatever became of
#   it, as "What works in the texts" counts them (texts_by_template) and text-backs are counted;
# - recovered by the follow-up: those replied to as texts_by_template counts a reply (a text from the caller after
#   it and before the next text-back or follow-up to them; an opt-out or opt-in keyword is not a reply);
# - voicemails: calls started in the period on which the caller left a recording;
# - reply intents: the caller's texts in the period by the intent the rules read (unread ones left out).
_AFTER_TEXTBACK = """
SELECT {client_id:d} AS client_id,
    count(f.id) AS followups_sent,
    count(f.id) FILTER (WHERE f.answered) AS followups_recovered,
    (SELECT count(*) FROM {schema}.telephony_call c
     WHERE c.started_at >= %(s{client_id:d})s AND c.started_at < %(e{client_id:d})s
       AND c.recording_sid <> '') AS voicemails,
    (SELECT COALESCE(jsonb_object_agg(t.intent, t.n), '{{}}'::jsonb) FROM (
        SELECT m.intent, count(*) AS n FROM {schema}.messaging_message m
        WHERE m.direction = 'in' AND m.intent <> ''
          AND m.created_at >= %(s{client_id:d})s AND m.created_at < %(e{client_id:d})s
        GROUP BY m.intent) AS t) AS reply_intents
FROM (SELECT 1) AS one LEFT JOIN (
    SELECT f.id, EXISTS (
        SELECT 1 FROM {schema}.messaging_message i
        WHERE i.conversation_id = f.conversation_id AND i.direction = 'in'
          AND i.created_at >= f.sent_at AND i.created_at < COALESCE(f.next_at, 'infinity')
          AND NOT EXISTS (SELECT 1 FROM {schema}.messaging_consentevent c
                          WHERE c.source IN ('keyword', 'reply') AND c.message_sid = i.provider_sid)
    ) AS answered
    FROM (
        SELECT f.id, f.conversation_id, f.sent_at, (
            SELECT min(n.sent_at) FROM {schema}.messaging_message n
            WHERE n.conversation_id = f.conversation_id AND n.direction = 'out'
              AND n.kind IN ('textback', 'followup') AND n.sent_at IS NOT NULL
              AND (n.sent_at, n.id) > (f.sent_at, f.id)
        ) AS next_at
        FROM {schema}.messaging_message f
        WHERE f.kind = 'followup' AND f.sent_at >= %(s{client_id:d})s AND f.sent_at < %(e{client_id:d})s
    ) AS f
) AS f ON true
"""


def after_textback_by_client(*, spans: dict) -> dict[int, dict]:
    """{client id: {"followups_sent", "followups_recovered", "voicemails", "reply_intents": {intent: n}}} for
    `spans`, {client: (start, end)}: one statement for all the clients, whatever schema the connection is in."""
    if not spans:
        return {}
    sql = " UNION ALL ".join(
        _AFTER_TEXTBACK.format(client_id=client.pk, schema=connection.ops.quote_name(client.schema_name))
        for client in spans
    )
    params = {}
    for client, (start, end) in spans.items():
        params[f"s{client.pk}"], params[f"e{client.pk}"] = start, end
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(NO_JIT)  # a thousand clients' parts make a cost that would switch JIT on
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        rows = {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}
    for row in rows.values():  # Django leaves jsonb as its text when it is not read through a model field
        if isinstance(row["reply_intents"], str):
            row["reply_intents"] = json.loads(row["reply_intents"])
    return rows
