"""axe-core (vendored in tests/browser/vendor/) run in a Playwright page: the accessibility rules of WCAG 2.1 A
and AA and axe's best practices, with what is serious or critical reported in words a test failure can show.

The script is evaluated through the DevTools protocol, which the page's Content-Security-Policy (`script-src
'self'`) does not govern: the page is checked as it is served, with its CSP on."""

from functools import cache
from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")


@cache
def _source() -> str:
    return AXE.read_text()


def axe_violations(page, *, impacts=BLOCKING) -> list[dict]:
    """The page's violations of these impacts: [{id, impact, help, targets}], targets being CSS selectors."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_source())
    found = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
            .then(results => results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
            })))""",
        TAGS,
    )
    return [violation for violation in found if violation["impact"] in impacts]


def describe(violations_by_page: dict[str, list[dict]]) -> str:
    """One line per page and rule, for an assertion's message and the report."""
    lines = []
    for page, violations in violations_by_page.items():
        for v in violations:
            lines.append(f"{page}: {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}")
    return "\n".join(lines)
