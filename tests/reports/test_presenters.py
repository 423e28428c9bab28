"""Skip reasons read the same on the report as in the inbox: each reason carries both (messaging.reasons)."""

from reports.presenters import skipped_rows


def test_a_report_names_each_skip_reason_in_words():
    rows = dict(skipped_rows({"not_live": 2, "usage_limit": 1, "something_new": 3}))
    assert rows == {"Not live yet": 2, "Text allowance used up": 1, "Something new": 3}
