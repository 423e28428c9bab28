"""The SVG charts: an axis a person can read (round steps, whole numbers for counts), every bar titled with its
exact number, and text escaped."""

from decimal import Decimal

from reports.charts import Series, axis, bar_chart


def test_the_axis_has_round_steps():
    assert axis(0) == (1, 1)
    assert axis(3) == (3, 1)  # counts never get a step of 0.75
    assert axis(8) == (8, 2)
    assert axis(37) == (40, 10)
    assert axis(1650.5, whole=False) == (2000, 500)
    assert axis(0.4, whole=False) == (0.4, 0.1)


def test_bars_are_titled_and_labels_escaped():
    svg = bar_chart(
        labels=["<b>Mon</b>", "Tue"],
        series=[Series("Won & kept", "s4", [Decimal("1650.50"), 0])],
        title="Revenue",
        money=True,
    )
    assert "<title>&lt;b&gt;Mon&lt;/b&gt;: Won &amp; kept $1,650.50</title>" in svg
    assert "<b>" not in svg and ">$2k<" in svg and ">$500<" in svg
    assert svg.count("<rect") == 2
