"""Server-rendered SVG charts (no script, nothing fetched): stacked bars and horizontal bars.

Every label goes through :func:`html.escape`; the result is inserted with ``|safe`` in the
templates, so nothing user-controlled may reach it unescaped.
"""

from __future__ import annotations

from html import escape
from typing import List, Mapping, Sequence, Tuple

#: Colour-blind-safe palette (Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def stacked_bars(
    days: Sequence[str],
    series: Mapping[str, Mapping[str, float]],
    title: str,
    width: int = 640,
) -> str:
    """Bars per day, stacked by key (channel, language...), with a legend.

    Args:
        days: The x axis (ISO dates), in order.
        series: ``{day: {key: value}}``.
        title: Accessible title.
        width: Width in pixels.

    Returns:
        An ``<svg>`` element.

    """
    height, top, bottom, left = 200, 10, 30, 34
    keys = sorted({k for values in series.values() for k in values})
    totals = [sum(series.get(d, {}).values()) for d in days]
    peak = max(totals + [1])
    plot_w = width - left - 10
    bar_w = max(2.0, plot_w / max(len(days), 1) * 0.8)
    step = plot_w / max(len(days), 1)
    parts: List[str] = [
        f'<svg class="chart" viewBox="0 0 {width} {height + 24 + 16 * ((len(keys) + 3) // 4)}" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
        'stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="axis">{int(peak)}</text>',
        f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end" class="axis">0</text>',
    ]
    scale = (height - top - bottom) / peak
    for i, day in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        y: float = height - bottom
        for k_index, key in enumerate(keys):
            value = series.get(day, {}).get(key, 0)
            if not value:
                continue
            h = value * scale
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{_colour(k_index)}"><title>{escape(day)} {escape(key)}: '
                f"{value:g}</title></rect>"
            )
        if len(days) <= 10 or i % max(1, len(days) // 6) == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" '
                f'class="axis">{escape(day[5:])}</text>'
            )
    for k_index, key in enumerate(keys):
        lx = left + (k_index % 4) * 150
        ly = height + 8 + 16 * (k_index // 4)
        parts.append(
            f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" fill="{_colour(k_index)}"/>'
            f'<text x="{lx + 14}" y="{ly}" class="legend">{escape(key)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(items: Sequence[Tuple[str, float]], title: str, width: int = 640) -> str:
    """One horizontal bar per item (top intents, ratings), value at the end.

    Args:
        items: ``(label, value)`` pairs, in display order.
        title: Accessible title.
        width: Width in pixels.

    Returns:
        An ``<svg>`` element.

    """
    row, label_w = 22, 200
    height = max(1, len(items)) * row + 6
    peak = max([v for _, v in items] + [1])
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (name, value) in enumerate(items):
        y = 3 + i * row
        w = (width - label_w - 60) * value / peak
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" class="legend">'
            f"{escape(str(name))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
            f'fill="{_colour(0)}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" class="legend">{value:g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
