"""Charts drawn on the server as inline SVG: no JavaScript, no library, nothing fetched from elsewhere.

Each chart is accessible: ``role="img"`` named by its ``<title>`` and described by its ``<desc>`` (every value in
words), and every value is also written on the chart as a text label. Every text that goes in (titles, units,
labels) is escaped; the functions are pure and return ``markupsafe.Markup`` for a template to place as is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal

from markupsafe import Markup, escape

WIDTH: Final = 640
HEIGHT: Final = 260
BAR_HEIGHT: Final = 26
BAR_TOP: Final = 8
PLOT_LEFT: Final = 56
PLOT_RIGHT: Final = 24
PLOT_TOP: Final = 56  # room for the chart's visible title and the top value
PLOT_BOTTOM: Final = 40
LABEL_WIDTH: Final = 230  # room for a grade's name left of its bar
INK: Final = "#1d2733"
MUTED: Final = "#5b6775"
ACCENT: Final = "#a3191f"
LINE: Final = "#d5dbe3"
NO_VALUE: Final = "không có số liệu"


def format_number(value: float | None, decimals: int | None = None) -> str:
    """Vietnamese style: '.' between thousands, ',' before decimals (7.981; 93,3); '—' for no value."""
    if value is None:
        return "—"
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 1
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "chart"


def _text(x: float, y: float, content: str, anchor: str = "middle", size: int = 12, fill: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}">'
        f"{escape(content)}</text>"
    )


def _frame(chart_id: str, title: str, description: str, width: int, height: int, body: list[str]) -> Markup:
    identifier = _id(chart_id)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="svg-chart" id="{identifier}" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'aria-labelledby="{identifier}-title {identifier}-desc" '
        "font-family=\"system-ui, 'Segoe UI', 'Noto Sans', 'DejaVu Sans', Arial, sans-serif\">"
        f'<title id="{identifier}-title">{escape(title)}</title>'
        f'<desc id="{identifier}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def _with_unit(value: float | None, unit: str) -> str:
    text = format_number(value)
    return f"{text} {unit}" if value is not None and unit else (text if value is not None else NO_VALUE)


def _scale_top(values: Sequence[float]) -> float:
    """A round top for the value axis, at least the largest value."""
    largest = max(values, default=0.0)
    if largest <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(largest))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if largest <= step * magnitude:
            return step * magnitude
    return largest


def series_chart(
    chart_id: str,
    title: str,
    points: Sequence[tuple[int, float | None]],
    unit: str = "",
    kind: Literal["line", "column"] = "line",
) -> Markup:
    """A series over the report years, as a line or as columns, each value written above its year."""
    description = "; ".join(f"năm {year}: {_with_unit(value, unit)}" for year, value in points) or NO_VALUE
    body = []
    known = [value for _, value in points if value is not None]
    top = _scale_top(known)
    plot_width = WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = HEIGHT - PLOT_TOP - PLOT_BOTTOM
    base = PLOT_TOP + plot_height
    body.append(
        f'<line x1="{PLOT_LEFT}" y1="{base}" x2="{WIDTH - PLOT_RIGHT}" y2="{base}" stroke="{LINE}" stroke-width="1"/>'
    )
    body.append(
        f'<text x="8" y="22" font-size="17" font-weight="600" fill="{INK}" aria-hidden="true">{escape(title)}</text>'
    )
    body.append(_text(PLOT_LEFT - 6, PLOT_TOP + 4, format_number(top), "end", 13, MUTED))
    body.append(_text(PLOT_LEFT - 6, base, "0", "end", 13, MUTED))
    if not points:
        body.append(_text(WIDTH / 2, HEIGHT / 2, NO_VALUE, fill=MUTED))
        return _frame(chart_id, title, description, WIDTH, HEIGHT, body)
    slot = plot_width / len(points)
    coordinates: list[tuple[float, float]] = []
    for index, (year, value) in enumerate(points):
        x = PLOT_LEFT + slot * (index + 0.5)
        body.append(_text(x, base + 22, str(year), size=16, fill=MUTED))
        if value is None:
            body.append(_text(x, base - 8, "—", size=16, fill=MUTED))
            continue
        y = base - plot_height * (value / top if top else 0)
        if kind == "column":
            bar = min(48.0, slot * 0.6)
            body.append(
                f'<rect x="{x - bar / 2:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{base - y:.1f}" fill="{ACCENT}"/>'
            )
        else:
            coordinates.append((x, y))
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{ACCENT}"/>')
        body.append(_text(x, y - 10, format_number(value), size=16))
    if kind == "line" and len(coordinates) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        body.insert(4, f'<polyline points="{path}" fill="none" stroke="{ACCENT}" stroke-width="2"/>')
    return _frame(chart_id, title, description, WIDTH, HEIGHT, body)


def bar_chart(chart_id: str, title: str, bars: Sequence[tuple[str, float | None]], unit: str = "") -> Markup:
    """Horizontal bars, one per label (a grade distribution), each with its value written beside it."""
    description = "; ".join(f"{label}: {_with_unit(value, unit)}" for label, value in bars) or NO_VALUE
    height = BAR_TOP + BAR_HEIGHT * max(len(bars), 1) + BAR_TOP
    top = _scale_top([value for _, value in bars if value is not None])
    plot_width = WIDTH - LABEL_WIDTH - 70
    body = []
    if not bars:
        body.append(_text(WIDTH / 2, BAR_TOP + BAR_HEIGHT / 2, NO_VALUE, fill=MUTED))
    for index, (label, value) in enumerate(bars):
        y = BAR_TOP + BAR_HEIGHT * index
        body.append(_text(LABEL_WIDTH - 8, y + BAR_HEIGHT / 2 + 4, label, "end", 12))
        length = plot_width * ((value or 0) / top)
        body.append(
            f'<rect x="{LABEL_WIDTH}" y="{y + 4:.1f}" width="{length:.1f}" height="{BAR_HEIGHT - 8}" fill="{ACCENT}"/>'
        )
        body.append(_text(LABEL_WIDTH + length + 6, y + BAR_HEIGHT / 2 + 4, format_number(value), "start", 12))
    return _frame(chart_id, title, description, WIDTH, height, body)
