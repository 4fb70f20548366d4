"""`direkte report`: the figures per center and region over a window, as CSV or as one
self-contained HTML file whose charts are inline SVG drawn by matplotlib (no scripts,
no fonts or images fetched: it opens without a network)."""

from __future__ import annotations

import csv
import io
from datetime import date
from html import escape
from typing import Any

from sqlalchemy.orm import Session

from direkte.analytics.figures import SAME_DAY_TARGET, read_figures, resolve_scope

COLUMNS = (
    "scope",
    "key",
    "visits_checked_in",
    "same_day_count",
    "same_day_rate",
    "requests",
    "escalation_rate_per_100",
    "reach_rate",
    "resolved",
    "overturn_rate",
    "first_response_p50_min",
    "first_response_p90_min",
    "resolution_p50_min",
    "resolution_p90_min",
    "sla_met_rate",
    "ratings",
    "satisfaction_mean",
    "satisfaction_share_4_5",
    "booking_to_appointment_days_p50",
    "vehicles_per_center",
    "manager_load",
)


def report_data(session: Session, first: date, last: date) -> dict[str, Any]:
    """The network's figures, by center, by region and by week (the trusted CLI's view)."""
    scope = resolve_scope(session, None, first=first, last=last)
    by_center = read_figures(session, scope, group_by="center")
    return {
        "network": by_center,
        "centers": by_center["groups"],
        "regions": read_figures(session, scope, group_by="region")["groups"],
        "weeks": read_figures(session, scope, group_by="week")["groups"],
    }


def _row(scope: str, key: str, f: dict[str, Any]) -> list[Any]:
    return [
        scope,
        key,
        f["visits_checked_in"],
        f["same_day_resolution"]["count"],
        f["same_day_resolution"]["rate"],
        f["requests"]["total"],
        f["escalation_rate_per_100"],
        f["reach_rate"],
        f["resolved"],
        f["overturn_rate"],
        f["first_response_business_minutes"]["p50"],
        f["first_response_business_minutes"]["p90"],
        f["resolution_business_minutes"]["p50"],
        f["resolution_business_minutes"]["p90"],
        f["sla_met_rate"],
        f["satisfaction"]["count"],
        f["satisfaction"]["mean"],
        f["satisfaction"]["share_4_5"],
        f["access"]["booking_to_appointment_days_p50"],
        f["access"]["vehicles_per_center"],
        f["manager_load"]["per_manager_per_business_day"],
    ]


def _rows(data: dict[str, Any]) -> list[list[Any]]:
    rows = [_row("network", "all", data["network"])]
    rows += [_row("region", g["key"], g) for g in data["regions"]]
    rows += [_row("center", g["key"], g) for g in data["centers"]]
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value == value else ""
    return str(value)


def render_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in _rows(data):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


# ---- charts ---------------------------------------------------------------------------


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # the inline element, without the XML prologue


def _charts(data: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams.update({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "direkte"})
    weeks = [g for g in data["weeks"] if g["visits_checked_in"]]
    labels = [g["key"] for g in weeks]
    charts = []

    fig, ax = plt.subplots(figsize=(7.5, 3))
    rates = [g["same_day_resolution"]["rate"] for g in weeks]
    ax.plot(labels, rates, marker="o", label="same-day resolution")
    ax.axhline(SAME_DAY_TARGET, color="tab:red", linestyle="--", label="target: two thirds")
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of visits checked in")
    ax.legend(loc="lower right")
    _weekly_ticks(ax, labels)
    charts.append(("Same-day resolution by week, against the two-thirds target", _svg(fig)))
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7.5, 3))
    ax.bar(labels, [g["escalation_rate_per_100"] or 0 for g in weeks], color="tab:orange")
    ax.set_ylabel("requests per 100 visits")
    _weekly_ticks(ax, labels)
    charts.append(("Escalation requests per 100 visits, by week", _svg(fig)))
    plt.close(fig)

    codes = [c for c in data["network"]["root_causes"]["by_diagnosis_code"] if c["resolved"]]
    fig, ax = plt.subplots(figsize=(7.5, max(2.0, 0.3 * len(codes) + 1)))
    ax.barh(
        [f"{c['key']} ({c['count']}/{c['resolved']})" for c in reversed(codes)],
        [c["rate"] or 0 for c in reversed(codes)],
        color="tab:purple",
    )
    ax.set_xlim(0, 1)
    ax.set_xlabel("overturned share of resolved cases (overturned/resolved)")
    charts.append(("Overturn rate by diagnosis code", _svg(fig)))
    plt.close(fig)
    return charts


def _weekly_ticks(ax: Any, labels: list[str]) -> None:
    step = max(1, len(labels) // 12)
    ax.set_xticks(range(0, len(labels), step))
    ax.set_xticklabels(labels[::step], rotation=45, ha="right")


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; font-size: 0.8rem; margin-bottom: 2rem; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.4rem; text-align: right; }
th:first-child, td:first-child, td:nth-child(2) { text-align: left; }
figure { margin: 1rem 0 2rem; } svg { max-width: 100%; height: auto; }
"""


def render_html(data: dict[str, Any]) -> str:
    network = data["network"]
    title = f"direkte figures {network['from']} to {network['to']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        "<p>Local days in each center's own calendar; business time in its opening hours."
        " Definitions: docs/figures.md.</p>",
    ]
    for caption, svg in _charts(data):
        parts.append(f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>")
    parts.append("<h2>Figures per region and center</h2><table><thead><tr>")
    parts += [f"<th>{escape(c)}</th>" for c in COLUMNS]
    parts.append("</tr></thead><tbody>")
    for row in _rows(data):
        parts.append("<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>")
    parts.append("</tbody></table></body></html>")
    return "\n".join(parts)
