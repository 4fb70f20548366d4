"""Charts drawn on the server as inline SVG (no script, no other host): the geometry
here, the labels in the template (in the page's language)."""

from __future__ import annotations

from dataclasses import dataclass

from direkte.analytics.backtest import BacktestReport

LABEL_WIDTH = 170
BAR_AREA = 380
BAR_HEIGHT = 14
ROW_GAP = 14
VALUE_PAD = 6


@dataclass(frozen=True, slots=True)
class Bar:
    series: str  # current | candidate
    x: int
    y: int
    width: int
    height: int
    value: int
    text_x: int
    text_y: int


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    label_y: int
    bars: tuple[Bar, Bar]


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    label_width: int
    rows: tuple[Row, ...]


def backtest_chart(report: BacktestReport) -> BarChart:
    """Requests by what each policy did with them, current beside candidate, on one scale."""
    now, then = report.current, report.candidate
    pairs = [
        ("reached", now.reached, then.reached),
        ("route", now.decisions.get("route", 0), then.decisions.get("route", 0)),
        ("reject", now.decisions.get("reject", 0), then.decisions.get("reject", 0)),
        ("moderate", now.decisions.get("moderate", 0), then.decisions.get("moderate", 0)),
        ("deflected", now.deflected, then.deflected),
        ("deflected_right", now.deflected_right, then.deflected_right),
    ]
    top = max([1, *(max(a, b) for _, a, b in pairs)])
    rows = []
    y = ROW_GAP
    for key, current, candidate in pairs:
        bars = []
        for offset, (series, value) in enumerate((("current", current), ("candidate", candidate))):
            width = round(BAR_AREA * value / top)
            bar_y = y + offset * BAR_HEIGHT
            bars.append(
                Bar(
                    series,
                    LABEL_WIDTH,
                    bar_y,
                    width,
                    BAR_HEIGHT - 2,
                    value,
                    LABEL_WIDTH + width + VALUE_PAD,
                    bar_y + BAR_HEIGHT - 4,
                )
            )
        rows.append(Row(key, y + BAR_HEIGHT + 2, (bars[0], bars[1])))
        y += 2 * BAR_HEIGHT + ROW_GAP
    return BarChart(LABEL_WIDTH + BAR_AREA + 80, y, LABEL_WIDTH, tuple(rows))
