"""Skip reasons read the same on the report as in the inbox: one table of them, in messaging.services."""

from messaging.services import SKIP_REASON_LABELS, SKIP_REASONS
from reports.presenters import skipped_rows


def test_every_reason_the_inbox_can_explain_has_a_report_label():
    assert set(SKIP_REASON_LABELS) == set(SKIP_REASONS)


def test_a_report_names_each_skip_reason_in_words():
    rows = dict(skipped_rows({"not_live": 2, "usage_limit": 1, "something_new": 3}))
    assert rows == {"Not live yet": 2, "Text allowance used up": 1, "Something new": 3}
