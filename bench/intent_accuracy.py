"""How well the intent classifier (messaging.intents: rules, and a word model where no rule speaks) reads
callers' replies: precision and recall per intent, the confusions, and how long a reply takes to read, for every
labelled set in tests/messaging/data/.

    .venv/bin/python bench/intent_accuracy.py [--show-misses]

No database, no network. Precision: of the replies given an intent, how many had it; recall: of the replies that
had it, how many were given it. The sets, in the order they were written: intents.csv (the rules were written
reading it), intents_holdout.csv and intents_holdout2.csv (held out at first; their misses were read while the
rules were widened), intents_holdout4.csv (written after the rules' last change: the rules alone read 65.6 % of
it); those four are also the word model's examples (messaging/data/intent_examples.csv), so their scores flatter
it. intents_holdout5.csv was written before the word model and is in none of it: the honest score. (A third set
was folded into intents.csv: the rules were written too soon after it to call it unseen.)
"""

import argparse
import csv
import time
from collections import Counter

from _common import ROOT, django_setup, print_table, report

django_setup()

from messaging.intents import Intent, intent_of  # noqa: E402

DATA = ROOT / "tests" / "messaging" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show-misses", action="store_true", help="print every reply read wrong")
    args = parser.parse_args()
    tuned = measure(DATA / "intents.csv", show_misses=args.show_misses)
    print(
        "\nfirst held-out set (its misses were read while the rules were widened; the word model learns from it):"
    )
    held_out = measure(DATA / "intents_holdout.csv", show_misses=args.show_misses)
    print(
        "\nsecond held-out set (its misses were read while widening the rules; the word model learns from it):"
    )
    held_out2 = measure(DATA / "intents_holdout2.csv", show_misses=args.show_misses)
    print("\nfourth held-out set (the rules never tuned on it; the word model learns from it):")
    held_out4 = measure(DATA / "intents_holdout4.csv", show_misses=args.show_misses)
    print("\nfifth held-out set (in nothing the classifier learned or was tuned on: the honest score):")
    held_out5 = measure(DATA / "intents_holdout5.csv", show_misses=args.show_misses)
    report(
        "intent_accuracy",
        tuned.pop("rows"),
        ["intent", "replies", "given", "precision", "recall", "f1"],
        extra={
            "tuned_on": tuned,
            "held_out": held_out,
            "held_out_2": held_out2,
            "held_out_4": held_out4,
            "held_out_5": held_out5,
        },
    )


def measure(path, *, show_misses: bool) -> dict:
    """Read every labelled reply in `path`; print its table; return the numbers."""
    with path.open(newline="") as handle:
        labelled = [(row["text"], row["intent"]) for row in csv.DictReader(handle)]
    started = time.perf_counter()
    readings = [intent_of(text) for text, _ in labelled]
    per_reply_us = (time.perf_counter() - started) / len(labelled) * 1e6

    given = Counter(reading.intent.value for reading in readings)
    actual = Counter(label for _, label in labelled)
    right = Counter(label for (_, label), r in zip(labelled, readings, strict=True) if r.intent == label)
    confusions = Counter(
        (label, r.intent.value) for (_, label), r in zip(labelled, readings, strict=True) if r.intent != label
    )
    rows = []
    for intent in Intent:
        precision = right[intent.value] / given[intent.value] if given[intent.value] else 0.0
        recall = right[intent.value] / actual[intent.value] if actual[intent.value] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(
            {
                "intent": intent.value,
                "replies": actual[intent.value],
                "given": given[intent.value],
                "precision": round(precision, 3),
                "recall": round(recall, 3),
                "f1": round(f1, 3),
            }
        )
    accuracy = sum(right.values()) / len(labelled)
    if show_misses:
        for (text, label), reading in zip(labelled, readings, strict=True):
            if reading.intent != label:
                print(f"{label:>12} read as {reading.intent.value:<12} {reading.confidence:.2f} {text!r}")
        print()
    print_table(rows, ["intent", "replies", "given", "precision", "recall", "f1"], title=path.name)
    print(f"{len(labelled)} replies, accuracy {accuracy:.1%}, {per_reply_us:.0f} µs a reply")
    if confusions:
        print("most confused: " + "; ".join(f"{a} → {g} ×{n}" for (a, g), n in confusions.most_common(5)))
    return {
        "file": path.name,
        "rows": rows,
        "labelled_replies": len(labelled),
        "accuracy": round(accuracy, 3),
        "per_reply_microseconds": round(per_reply_us, 1),
        "confusions": [{"actual": a, "given": g, "count": n} for (a, g), n in confusions.most_common()],
    }


if __name__ == "__main__":
    main()
