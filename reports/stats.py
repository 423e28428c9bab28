"""The one statistical test the reports make: is one wording of a text really answered more often than the other?

Fisher's exact test, two-sided, on the 2×2 table (wording A or B) × (replied or not). Exact, so it holds at the
small counts a single business sees (a chi-square or z-test's normal approximation does not, below about five
expected in a cell), and it needs no library: the probabilities are hypergeometric, computed with log-gamma."""

from math import exp, lgamma

# A difference is called significant below this p-value (two-sided).
SIGNIFICANCE = 0.05


def _log_choose(n: int, k: int) -> float:
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1)


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test for the table [[a, b], [c, d]]: the probability, with the rows'
    and columns' totals fixed, of a table at most as likely as this one. As scipy.stats.fisher_exact computes it
    (tables within a relative 1e-7 of the observed one's probability count as equally likely)."""
    if min(a, b, c, d) < 0:
        raise ValueError("A count cannot be negative.")
    row, column, n = a + b, a + c, a + b + c + d
    if n == 0 or row in (0, n) or column in (0, n):
        return 1.0  # one wording unsent, or nobody (or everybody) replied: nothing to tell apart

    def log_p(x: int) -> float:
        return _log_choose(column, x) + _log_choose(n - column, row - x) - _log_choose(n, row)

    observed = log_p(a)
    total = 0.0
    for x in range(max(0, row - (n - column)), min(row, column) + 1):
        p = log_p(x)
        if p <= observed + 1e-7:
            total += exp(p)
    return min(1.0, total)
