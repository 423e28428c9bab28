"""How report numbers read: durations, money, the change from the period before, skip reasons in words."""

from decimal import Decimal

from messaging.reasons import reason_label


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"${value:,.2f}"


def _change(current, previous, *, lower_is_better: bool = False, points: bool = False) -> tuple[str, str]:
    """The change from the previous period as text and a class (up/down/same), better or worse by colour.
    `points`: the values are rates (percentages), changed by percentage points, not by a percentage of
    themselves (60% → 66% is "+6.0 pts", not "+10%")."""
    if current is None or previous is None:
        return "", "same"
    if current == previous:
        return "no change", "same"
    if points:
        diff = Decimal(current) - Decimal(previous)
        better = (diff > 0) != lower_is_better
        return f"{'+' if diff > 0 else '−'}{abs(diff):.1f} pts", "better" if better else "worse"
    if not previous:
        return "new", "better" if (current > previous) != lower_is_better else "worse"
    pct = (Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)
    better = (pct > 0) != lower_is_better
    return f"{'+' if pct > 0 else '−'}{abs(pct):.0f}%", "better" if better else "worse"


def _row(label, current, previous, shown, shown_before, *, lower_is_better=False, note="", points=False):
    change, direction = _change(current, previous, lower_is_better=lower_is_better, points=points)
    return {
        "label": label,
        "value": shown,
        "before": shown_before,
        "change": change,
        "direction": direction,
        "note": note,
    }


def funnel_rows(now, before) -> list[dict]:
    """The funnel, each number beside the previous period's. `now`/`before`: a Funnel or RollupNumbers."""
    pct = lambda v: "—" if v is None else f"{v}%"  # noqa: E731
    rows = [
        _row("Calls", now.calls, before.calls, f"{now.calls:,}", f"{before.calls:,}"),
        _row(
            "Missed calls",
            now.missed_calls,
            before.missed_calls,
            f"{now.missed_calls:,}",
            f"{before.missed_calls:,}",
            lower_is_better=True,
        ),
        _row(
            "Missed-call rate",
            now.missed_rate,
            before.missed_rate,
            pct(now.missed_rate),
            pct(before.missed_rate),
            lower_is_better=True,
            points=True,
            note="missed calls per call",
        ),
        _row(
            "Text-backs sent",
            now.textbacks_sent,
            before.textbacks_sent,
            f"{now.textbacks_sent:,}",
            f"{before.textbacks_sent:,}",
        ),
        _row(
            "Text-backs skipped",
            now.textbacks_skipped,
            before.textbacks_skipped,
            f"{now.textbacks_skipped:,}",
            f"{before.textbacks_skipped:,}",
            lower_is_better=True,
        ),
        _row("Replies", now.replies, before.replies, f"{now.replies:,}", f"{before.replies:,}"),
        _row(
            "Reply rate",
            now.reply_rate,
            before.reply_rate,
            pct(now.reply_rate),
            pct(before.reply_rate),
            note="replies per text-back sent",
        ),
        _row(
            "Answered by staff",
            now.answered_by_staff,
            before.answered_by_staff,
            f"{now.answered_by_staff:,}",
            f"{before.answered_by_staff:,}",
        ),
    ]
    if hasattr(now, "first_reply_median_seconds"):
        every = max(now.first_reply_sample_every, getattr(before, "first_reply_sample_every", 1))
        sampled = f", from 1 in {every} replies" if every > 1 else ""
        rows += [
            _row(
                f"Time to first staff reply (median{sampled})",
                now.first_reply_median_seconds,
                before.first_reply_median_seconds,
                duration(now.first_reply_median_seconds),
                duration(before.first_reply_median_seconds),
                lower_is_better=True,
            ),
            _row(
                f"Time to first staff reply (90th percentile{sampled})",
                now.first_reply_p90_seconds,
                before.first_reply_p90_seconds,
                duration(now.first_reply_p90_seconds),
                duration(before.first_reply_p90_seconds),
                lower_is_better=True,
            ),
        ]
    rows += [
        _row("Booked", now.booked, before.booked, f"{now.booked:,}", f"{before.booked:,}"),
        _row("Won", now.won, before.won, f"{now.won:,}", f"{before.won:,}"),
        _row(
            "Recovered revenue",
            now.recovered_revenue,
            before.recovered_revenue,
            money(now.recovered_revenue),
            money(before.recovered_revenue),
            note="the value of won jobs",
        ),
        _row(
            "Opt-outs",
            now.opt_outs,
            before.opt_outs,
            f"{now.opt_outs:,}",
            f"{before.opt_outs:,}",
            lower_is_better=True,
        ),
        _row(
            "Delivery failures",
            now.delivery_failures,
            before.delivery_failures,
            f"{now.delivery_failures:,}",
            f"{before.delivery_failures:,}",
            lower_is_better=True,
        ),
    ]
    return rows


WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _pct(value) -> str:
    return "—" if value is None else f"{value}%"


def missed_rate_rows(now, before) -> list[dict]:
    """The missed-call rate day by day of the week (`now`/`before`: a Funnel with set_weekdays done), with the
    calls it is counted from and the period before's rate."""
    rows = []
    for index, name in enumerate(WEEKDAY_NAMES):
        current, previous = now.missed_rate_by_weekday[index], before.missed_rate_by_weekday[index]
        row = _row(name, current, previous, _pct(current), _pct(previous), lower_is_better=True, points=True)
        row["calls"], row["missed"] = now.calls_by_weekday[index], now.missed_by_weekday[index]
        rows.append(row)
    return rows


def skipped_rows(reasons: dict[str, int]) -> list[tuple[str, int]]:
    return [(reason_label(reason), n) for reason, n in reasons.items()]


def _rate_cell(value, count: int) -> str:
    return "—" if value is None else f"{value}% ({count:,})"


def text_rows(results) -> list[dict]:
    """ "What works in the texts": a row per template, or per wording of a template under test, with its verdict.
    `results`: reports.selectors.text_results."""
    rows = []
    for result in results:
        tested = result.test is not None
        for wording in result.wordings:
            rows.append(
                {
                    "template": result.label,
                    "wording": {"a": "A", "b": "B"}.get(wording.variant, "Only wording" if tested else ""),
                    "sent": f"{wording.sent:,}",
                    "replies": _rate_cell(wording.reply_rate, wording.replied),
                    "booked": _rate_cell(wording.booked_rate, wording.booked),
                    "opt_outs": _rate_cell(wording.opt_out_rate, wording.opted_out),
                    "winner": result.winner is wording,
                }
            )
        if tested:
            a, b = result.test
            p = result.p_value
            if result.winner is not None:
                other = a if result.winner is b else b
                verdict = (
                    f"{result.label}: wording {result.winner.variant.upper()} wins, replied to "
                    f"{result.winner.reply_rate}% against {other.reply_rate}% (Fisher's exact test, p = {p:.3f})."
                )
            else:
                verdict = (
                    f"{result.label}: no clear winner yet, {a.reply_rate or 0}% against {b.reply_rate or 0}% "
                    f"replied (Fisher's exact test, p = {p:.2f}; a winner needs p < 0.05)."
                )
            rows[-1]["verdict"] = verdict
    return rows


# --- After the text-back (reports.selectors.AfterTextback) -------------------------------------------------------

# (label, how to read it from an AfterTextback): the rows of the funnel export, in the order the report says them.
AFTER_TEXTBACK_COUNTS = [
    ("Booking links sent (texts)", lambda a: a.steps.links_sent),
    ("Booking links opened", lambda a: a.steps.links_opened),
    ("Booked after opening the booking link", lambda a: a.steps.booked_after_opening),
    ("Intake forms sent (callers)", lambda a: a.steps.forms_sent),
    ("Intake forms opened", lambda a: a.steps.forms_opened),
    ("Intake forms answered", lambda a: a.steps.forms_answered),
    ("Follow-ups sent", lambda a: a.followups.sent),
    ("Recovered by the follow-up (answered it)", lambda a: a.followups.recovered),
    ("Callers who left a voicemail", lambda a: a.voicemails),
]


def after_textback_rows(now, before) -> list[list]:
    """[label, this period, the period before] for each count, then one row per reply intent ("Replies about:
    Booking"), most first this period."""
    rows = [[label, read(now), read(before)] for label, read in AFTER_TEXTBACK_COUNTS]
    labels_before = dict(before.intents)
    shown = [label for label, _ in now.intents] + [
        label for label, _ in before.intents if label not in dict(now.intents)
    ]
    counts = dict(now.intents)
    rows += [
        [f"Replies about: {label}", counts.get(label, 0), labels_before.get(label, 0)] for label in shown
    ]
    return rows


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def after_textback_lines(after) -> list[str]:
    """The caller's side as sentences (the monthly PDF), only what happened; worded as the report page's."""
    steps, lines = after.steps, []
    if steps.links_sent:
        lines.append(
            f"Booking link: sent in {_count(steps.links_sent, 'text')}, opened from {steps.links_opened}, "
            f"{steps.booked_after_opening} booked after opening it."
        )
    if steps.forms_sent:
        lines.append(
            f"Intake form: sent to {_count(steps.forms_sent, 'caller')}, opened by {steps.forms_opened}, "
            f"{steps.forms_answered} sent answers."
        )
    if after.followups.sent:
        lines.append(
            f"Follow-up: {_count(after.followups.sent, 'caller')} who had not answered the text-back got one, "
            f"{after.followups.recovered} recovered by the follow-up (answered it)."
        )
    if after.voicemails:
        lines.append(f"Voicemail: {_count(after.voicemails, 'caller')} left a voicemail.")
    if after.intents:
        lines.append("Replies were about: " + ", ".join(f"{label} {n}" for label, n in after.intents) + ".")
    return lines
