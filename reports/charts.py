"""Charts drawn on the server as SVG: no chart library, no script, no inline style (the CSP allows neither).
Colours come from classes in static/css/app.css; every bar carries a <title>, so a pointer (or a screen
reader) gets the exact number."""

import math
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe


@dataclass
class Series:
    name: str
    css: str  # a class in app.css: s1, s2, s3 …
    values: list
    labels: list[str] | None = None  # its own bars' names when not the chart's (the period before's days)


def axis(value: float, *, whole: bool = True) -> tuple[float, float]:
    """The top of the axis and the step between gridlines: a step of 1, 2, 2.5 or 5 times a power of ten, about
    a quarter of the largest value (whole numbers only for counts), the top the first step at or above it."""
    if value <= 0:
        return 1, 1
    raw = value / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(1, math.ceil(step))
    return step * math.ceil(value / step), step


def _fmt(value, money: bool, percent: bool = False) -> str:
    if percent:
        return "no calls" if value is None else f"{value:.1f}%"
    if money:
        return f"${Decimal(value):,.2f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.0f}"


def _tick(value: float, money: bool, percent: bool = False) -> str:
    """Axis labels stay short: $1.5k rather than $1,500.00."""
    if percent:
        return f"{value:,.0f}%"
    if money and value >= 1000:
        return f"${value / 1000:,.1f}k".replace(".0k", "k")
    return f"${value:,.0f}" if money else f"{value:,.0f}"


def bar_chart(
    *,
    labels: list[str],
    series: list[Series],
    title: str,
    money: bool = False,
    percent: bool = False,
    width: int = 640,
    height: int = 220,
) -> SafeString:
    """Grouped bars, one group per label. Labels are thinned to fit; gridlines at every axis step. `percent`:
    the values are percentages (a rate), drawn against 0–100%."""
    left, bottom, top, right = 48, 28, 10, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    peak, step = axis(
        float(max((v for s in series for v in s.values if v is not None), default=0) or 0), whole=not money
    )
    if percent:
        peak, step = 100, 25  # a rate is read against the whole, not against its own highest bar
    n = max(1, len(labels))
    group_w = plot_w / n
    bar_w = max(1.0, group_w * 0.8 / max(1, len(series)))
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i in range(round(peak / step) + 1):
        value = step * i
        y = top + plot_h - plot_h * value / peak
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_tick(value, money, percent))}</text>"
        )
    every = max(1, round(n / 8))
    for gi, label in enumerate(labels):
        x0 = left + gi * group_w + group_w * 0.1
        for si, s in enumerate(series):
            shown = s.values[gi]
            value = shown or 0
            h = plot_h * float(value) / peak
            x = x0 + si * bar_w
            bar_label = s.labels[gi] if s.labels and gi < len(s.labels) else label
            parts.append(
                f'<rect class="{s.css}" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}"><title>{escape(bar_label)}: {escape(s.name)} {escape(_fmt(shown if percent else value, money, percent))}'
                "</title></rect>"
            )
        if gi % every == 0:
            parts.append(
                f'<text class="axis" x="{left + (gi + 0.5) * group_w:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 -- every label and number above went through escape()


def legend(series: list[Series]) -> SafeString:
    items = "".join(
        f'<li><svg class="swatch" viewBox="0 0 10 10" aria-hidden="true"><rect class="{s.css}" width="10" '
        f'height="10"/></svg>{escape(s.name)}</li>'
        for s in series
    )
    return mark_safe(f'<ul class="legend">{items}</ul>')  # noqa: S308 -- names escaped above


def sparkline(values: list, *, title: str, width: int = 120, height: int = 32) -> SafeString:
    """A small line of a daily series, for beside a headline number: its shape, not its scale (no axis). The
    title names it, so it is read as one image; the number beside it says the total."""
    points = [float(v or 0) for v in values] or [0.0]
    peak = max(points) or 1.0
    step = width / max(1, len(points) - 1)
    coords = [
        (round(i * step, 1), round(height - 2 - (v / peak) * (height - 4), 1)) for i, v in enumerate(points)
    ]
    line = " ".join(f"{x},{y}" for x, y in coords)
    area = f"0,{height} {line} {coords[-1][0]},{height}"
    svg = (
        f'<svg class="spark" viewBox="0 0 {width} {height}" preserveAspectRatio="none" role="img">'
        f"<title>{escape(title)}</title>"
        f'<polygon class="area" points="{area}"/><polyline class="line" points="{line}"/></svg>'
    )
    return mark_safe(svg)  # noqa: S308 -- numbers we computed, and the title escaped
