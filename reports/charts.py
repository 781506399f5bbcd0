"""Charts drawn on the server as inline SVG: no JavaScript library, no CDN, works offline and in
print. Pure functions from numbers and labels to markup.

Every text and link that goes into the markup is escaped here, so the returned string is safe to
put in a page as it is (it is marked safe). Each chart carries a ``<title>`` and a ``<desc>`` for
screen readers, and every bar or slice its own ``<title>`` (a tooltip: label and number); a bar
or slice with a link opens the dossiers behind it.

Numbers are written the way the active language writes them (``62.955`` and ``99,2 %`` in
Vietnamese).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

Formatter = Callable[[int], str]

# The site's colours (static/css/site.css) and a few more that stay apart for colour-blind eyes.
BLUE, GOLD, SLATE, GREEN, LIGHT_GREEN, RED = (
    "#0b5cad",
    "#c98f00",
    "#7b8794",
    "#17773a",
    "#7cc48a",
    "#b3121f",
)
GRID, INK, MUTED = "#d9dee5", "#1d2530", "#5a6573"
# The width of a character of the 12-unit font, on average, to lay out labels and legends.
CHAR_WIDTH = 7.0
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"


def format_count(value: int) -> str:
    """A count with the language's thousands separator: 62.955 in Vietnamese."""
    return number_format(value, force_grouping=True)


def format_rate(rate: float | None, digits: int = 1) -> str:
    """A fraction 0–1 as a percentage, ``99,2 %`` in Vietnamese; a dash when there is none."""
    if rate is None:
        return "—"
    return f"{number_format(rate * 100, decimal_pos=digits)}\u00a0%"


@dataclass(frozen=True)
class Series:
    """One measure across the categories of a bar chart.

    Series of the same ``group`` stack on one bar; groups stand side by side within a category.
    ``links`` (one per category, or empty) are where each bar segment leads.
    """

    name: str
    values: Sequence[int]
    color: str = BLUE
    group: str = ""
    links: Sequence[str | None] = ()

    def link(self, index: int) -> str | None:
        return self.links[index] if index < len(self.links) else None


@dataclass(frozen=True)
class Slice:
    """One part of a donut."""

    name: str
    value: int
    color: str = BLUE
    link: str | None = None


# --- Helpers --------------------------------------------------------------------------------------


def _num(value: float) -> str:
    """A coordinate: short, and never in the language's number format."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _attrs(**attributes: object) -> str:
    parts = []
    for name, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = _num(value)
        parts.append(f'{name.rstrip("_").replace("_", "-")}="{escape(str(value))}"')
    return " ".join(parts)


def _linked(markup: str, href: str | None) -> str:
    return f'<a href="{escape(href)}">{markup}</a>' if href else markup


def _text(x: float, y: float, text: str, **attributes: object) -> str:
    return f"<text {_attrs(x=float(x), y=float(y), **attributes)}>{escape(text)}</text>"


def _open_svg(
    chart_id: str, width: int, height: int, title: str, description: str, kind: str
) -> str:
    """The opening of a chart: its size, its accessible name and description."""
    ids = f"{chart_id}-title {chart_id}-desc"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" {_attrs(id=chart_id)} '
        f'class="chart chart-{kind}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{escape(ids)}" '
        f'font-family="{escape(FONT)}" font-size="12">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
    )


def nice_scale(largest: float, ticks: int = 4) -> tuple[int, int]:
    """The top of the value axis and the step of its grid for counts up to ``largest``: steps of
    1, 2, 2.5 or 5 × 10ⁿ (whole numbers, the counts being whole), at most ``ticks`` of them."""
    if largest <= 0:
        return ticks, 1
    raw = largest / ticks
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude != int(factor * magnitude):
            continue  # 2.5 only from 25 up: counts are whole
        step = int(factor * magnitude)
        if step * ticks >= largest:
            break
    return step * math.ceil(largest / step), step


def _legend(items: Sequence[tuple[str, str]], *, x: float, y: float, width: float) -> list[str]:
    """Swatches and names, wrapping into rows within ``width``; returns the markup."""
    parts: list[str] = []
    cursor, row = x, 0
    for name, color in items:
        size = 24 + len(name) * CHAR_WIDTH
        if cursor + size > x + width and cursor > x:
            cursor, row = x, row + 1
        top = y + row * 18
        parts.append(
            f"<rect {_attrs(x=float(cursor), y=float(top - 9), width=10, height=10, fill=color)}/>"
        )
        parts.append(_text(cursor + 14, top, name, fill=INK))
        cursor += size
    return parts


def legend_rows(items: Sequence[str], width: float) -> int:
    """How many rows :func:`_legend` takes for names ``items`` within ``width``."""
    rows, cursor = 1, 0.0
    for name in items:
        size = 24 + len(name) * CHAR_WIDTH
        if cursor + size > width and cursor > 0:
            rows, cursor = rows + 1, 0.0
        cursor += size
    return rows


def _groups(series: Sequence[Series]) -> list[list[Series]]:
    """The series by group, in the order the groups first appear."""
    order: dict[str, list[Series]] = {}
    for one in series:
        order.setdefault(one.group, []).append(one)
    return list(order.values())


def _clip(label: str, room: int) -> str:
    return label if len(label) <= room else label[: max(1, room - 1)].rstrip() + "…"


# --- Charts ---------------------------------------------------------------------------------------


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    chart_id: str,
    width: int = 800,
    height: int = 300,
    format_value: Formatter = format_count,
) -> SafeString:
    """Vertical bars, one slot per category: series of a group stacked, groups side by side,
    the total above each bar, a value axis with a grid and a legend below."""
    legend_height = 18 * legend_rows([s.name for s in series], width - 60) + 8
    left, right, top, bottom = 52, 8, 16, 28 + legend_height
    plot_w, plot_h = width - left - right, height - top - bottom
    groups = _groups(series)
    totals = [
        sum(one.values[i] for one in group)
        for group in groups
        for i in range(len(categories))
        if group
    ]
    axis_top, step = nice_scale(max(totals, default=0))
    baseline = top + plot_h

    def y_of(value: float) -> float:
        return baseline - value / axis_top * plot_h

    parts = [_open_svg(chart_id, width, height, title, description, "bar")]
    # The value axis: grid lines and their numbers.
    for tick in range(0, axis_top + 1, step):
        y = y_of(tick)
        parts.append(
            f"<line {_attrs(x1=float(left), x2=float(width - right), y1=y, y2=y, stroke=GRID)}/>"
        )
        parts.append(
            _text(left - 6, y + 4, format_value(tick), fill=MUTED, text_anchor="end", font_size=12)
        )
    slot = plot_w / max(1, len(categories))
    bar_w = min(48.0, slot * 0.72 / max(1, len(groups)))
    label_room = max(3, int(slot / (CHAR_WIDTH * 0.95)))
    for index, category in enumerate(categories):
        first = left + index * slot + (slot - bar_w * len(groups)) / 2
        for position, group in enumerate(groups):
            x = first + position * bar_w
            height_so_far = 0
            for one in group:
                value = one.values[index]
                if value <= 0:
                    continue
                y0, y1 = y_of(height_so_far + value), y_of(height_so_far)
                height_so_far += value
                box = _attrs(x=x + 1, y=y0, width=bar_w - 2, height=y1 - y0, fill=one.color)
                rect = (
                    f"<rect {box}"
                    f' class="bar"><title>{escape(category)} — {escape(one.name)}: '
                    f"{escape(format_value(value))}</title></rect>"
                )
                parts.append(_linked(rect, one.link(index)))
            if height_so_far and bar_w >= 16:
                total = format_value(height_so_far)
                # As large as fits over the bar and a little beyond, so neighbours stay apart.
                size = min(11.0, max(7.0, (bar_w + 6) / (0.6 * len(total))))
                parts.append(
                    _text(
                        x + bar_w / 2,
                        y_of(height_so_far) - 3,
                        total,
                        fill=INK,
                        text_anchor="middle",
                        font_size=round(size, 1),
                    )
                )
        parts.append(
            f"<text {_attrs(x=left + index * slot + slot / 2, y=float(baseline + 16))} "
            f'fill="{MUTED}" text-anchor="middle" font-size="12">'
            f"<title>{escape(category)}</title>{escape(_clip(category, label_room))}</text>"
        )
    parts.append(
        f"<line {_attrs(x1=float(left), x2=float(width - right), y1=float(baseline))}"
        f' y2="{_num(baseline)}" stroke="{MUTED}"/>'
    )
    parts += _legend(
        [(s.name, s.color) for s in series], x=left, y=baseline + 40, width=width - left - right
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text and link above is escaped


def hbar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    description: str,
    chart_id: str,
    width: int = 640,
    row_height: int = 26,
    label_width: int = 220,
    format_value: Formatter = format_count,
) -> SafeString:
    """Horizontal bars, one row per category (a unit), its series stacked, the total at the end
    of each bar and a legend below. ``categories`` may be long: they are shortened on the chart
    and given whole in each row's tooltip."""
    legend_height = 18 * legend_rows([s.name for s in series], width - label_width) + 8
    top = 8
    plot_w = width - label_width - 70
    height = top + row_height * max(1, len(categories)) + 10 + legend_height
    totals = [sum(one.values[i] for one in series) for i in range(len(categories))]
    largest = max(totals, default=0)
    parts = [_open_svg(chart_id, width, height, title, description, "hbar")]
    for index, category in enumerate(categories):
        y = top + index * row_height
        parts.append(
            f'<text {_attrs(x=float(label_width - 8), y=y + row_height * 0.62)} fill="{INK}" '
            f'text-anchor="end"><title>{escape(category)}</title>'
            f"{escape(_clip(category, int(label_width / (CHAR_WIDTH + 0.4))))}</text>"
        )
        x = float(label_width)
        for one in series:
            value = one.values[index]
            if value <= 0 or not largest:
                continue
            length = value / largest * plot_w
            rect = (
                f"<rect {_attrs(x=x, y=y + 4.0, width=length, height=row_height - 8.0)}"
                f' fill="{escape(one.color)}" class="bar"><title>{escape(category)} — '
                f"{escape(one.name)}: {escape(format_value(value))}</title></rect>"
            )
            parts.append(_linked(rect, one.link(index)))
            x += length
        parts.append(
            _text(x + 6, y + row_height * 0.62, format_value(totals[index]), fill=INK, font_size=11)
        )
    parts.append(
        f"<line {_attrs(x1=float(label_width), x2=float(label_width), y1=float(top))}"
        f' y2="{_num(top + row_height * max(1, len(categories)))}" stroke="{MUTED}"/>'
    )
    parts += _legend(
        [(s.name, s.color) for s in series],
        x=label_width,
        y=top + row_height * max(1, len(categories)) + 24,
        width=width - label_width,
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text and link above is escaped


def donut(
    slices: Sequence[Slice],
    *,
    title: str,
    description: str,
    chart_id: str,
    center_label: str = "",
    format_value: Formatter = format_count,
) -> SafeString:
    """A ring cut into ``slices`` in proportion to their values, the total in the middle and a
    legend on the right with each name, number and share. All zero: an empty grey ring."""
    radius, thickness = 62.0, 26.0
    cx, cy = 82.0, 84.0
    circumference = 2 * math.pi * radius
    total = sum(max(0, one.value) for one in slices)
    longest = max((len(one.name) for one in slices), default=0)
    width = int(190 + max(150, longest * CHAR_WIDTH))
    height = max(172, 24 + 40 * len(slices))
    parts = [_open_svg(chart_id, width, height, title, description, "donut")]
    parts.append(
        f"<circle {_attrs(cx=cx, cy=cy, r=radius, fill='none', stroke=GRID)}"
        f' stroke-width="{_num(thickness)}"/>'
    )
    offset = 0.0
    for one in slices:
        if total <= 0 or one.value <= 0:
            continue
        length = one.value / total * circumference
        circle = (
            f"<circle {_attrs(cx=cx, cy=cy, r=radius, fill='none', stroke=one.color)}"
            f' stroke-width="{_num(thickness)}" class="slice"'
            f' stroke-dasharray="{_num(length)} {_num(circumference - length)}"'
            f' stroke-dashoffset="{_num(-offset)}" transform="rotate(-90 {_num(cx)} {_num(cy)})">'
            f"<title>{escape(one.name)}: {escape(format_value(one.value))} "
            f"({escape(format_rate(one.value / total))})</title></circle>"
        )
        parts.append(_linked(circle, one.link))
        offset += length
    parts.append(
        _text(
            cx,
            cy + 6,
            format_value(total),
            fill=INK,
            text_anchor="middle",
            font_size=20,
            font_weight="700",
        )
    )
    if center_label:
        parts.append(
            _text(cx, cy + 24, center_label, fill=MUTED, text_anchor="middle", font_size=11)
        )
    top = (height - 40 * len(slices)) / 2 + 14
    for index, one in enumerate(slices):
        y = top + index * 40
        share = format_rate(one.value / total) if total else "—"
        row = (
            f"<rect {_attrs(x=172, y=y - 10, width=12, height=12, fill=one.color)}/>"
            + _text(190, y, one.name, fill=INK)
            + _text(
                190,
                y + 17,
                f"{format_value(one.value)} ({share})",
                fill=INK,
                font_size=14,
                font_weight="700",
            )
        )
        parts.append(_linked(row, one.link))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text and link above is escaped
