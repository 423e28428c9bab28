"""Shared bits for the benchmark scripts: Django setup, percentiles, printing a table and writing JSON."""

import json
import os
import platform
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples_s: list[float]) -> dict:
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "min_ms": round(min(ms), 2),
        "max_ms": round(max(ms), 2),
    }


def report(name: str, rows: list[dict], columns: list[str], extra: dict | None = None) -> Path:
    widths = [max([len(col), *(len(str(row.get(col, ""))) for row in rows)]) for col in columns]
    print("  ".join(col.ljust(width) for col, width in zip(columns, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(
            "  ".join(str(row.get(col, "")).ljust(width) for col, width in zip(columns, widths, strict=True))
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "rows": rows,
        **(extra or {}),
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwritten to {path.relative_to(ROOT)}")
    return path


def print_table(rows: list[dict], columns: list[str], title: str = "") -> None:
    """Print rows as a table (like report(), without writing anything)."""
    if title:
        print(f"\n{title}")
    widths = [max([len(col), *(len(str(row.get(col, ""))) for row in rows)]) for col in columns]
    print("  ".join(col.ljust(width) for col, width in zip(columns, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(
            "  ".join(str(row.get(col, "")).ljust(width) for col, width in zip(columns, widths, strict=True))
        )
