"""The server-side SVG charts: well-formed, accessible, escaped, proportional, and calm about
zeros."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation
from django.utils.safestring import SafeString

from reports.charts import (
    Series,
    Slice,
    bar_chart,
    donut,
    format_count,
    format_rate,
    hbar_chart,
    nice_scale,
)

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script>'


def parse(markup: str) -> ET.Element:
    """The chart as XML: parsing fails on anything unescaped."""
    return ET.fromstring(markup)


def bars(markup: str) -> list[dict[str, float]]:
    return [
        {name: float(value) for name, value in re.findall(r'(x|y|width|height)="([-\d.]+)"', rect)}
        for rect in re.findall(r"<rect [^>]*class=\"bar\"", markup)
    ]


def simple_bar(**kwargs) -> str:
    return bar_chart(
        kwargs.pop("categories", ["01/2026", "02/2026"]),
        kwargs.pop("series", [Series("Trực tuyến", [10, 20])]),
        title=kwargs.pop("title", "Xu hướng"),
        description=kwargs.pop("description", "Mô tả"),
        chart_id="c",
        **kwargs,
    )


def test_a_chart_is_safe_svg_with_a_title_and_a_description():
    markup = simple_bar(title="Hồ sơ tiếp nhận", description="Mười hai kỳ")
    assert isinstance(markup, SafeString)
    root = parse(markup)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c-title c-desc"
    assert root.find(f"{SVG}title").text == "Hồ sơ tiếp nhận"
    assert root.find(f"{SVG}desc").text == "Mười hai kỳ"
    assert "<script" not in markup and "http" not in markup.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )


@pytest.mark.parametrize(
    "chart",
    [
        lambda: simple_bar(
            categories=[EVIL, "b"],
            series=[Series(EVIL, [1, 2], color='red"/><script>', links=[f"/x?a=1&b={EVIL}", None])],
            title=EVIL,
            description=EVIL,
        ),
        lambda: hbar_chart(
            [EVIL],
            [Series(EVIL, [3], links=[f'/x?u="{EVIL}'])],
            title=EVIL,
            description=EVIL,
            chart_id='x"><script>',
        ),
        lambda: donut(
            [Slice(EVIL, 3, link=f"/x?{EVIL}"), Slice("b", 1)],
            title=EVIL,
            description=EVIL,
            chart_id="d",
            center_label=EVIL,
        ),
    ],
    ids=["bar", "hbar", "donut"],
)
def test_every_label_and_link_is_escaped(chart):
    markup = chart()
    assert "<script" not in markup
    assert "&lt;script&gt;" in markup
    parse(markup)  # still well-formed


def test_bar_heights_are_proportional_to_the_values():
    markup = simple_bar(series=[Series("a", [10, 20]), Series("b", [30, 0], group="other")])
    heights = [bar["height"] for bar in bars(markup)]
    assert len(heights) == 3  # a zero draws nothing
    ten, twenty, thirty = heights[0], heights[2], heights[1]
    assert twenty == pytest.approx(2 * ten, rel=1e-3)
    assert thirty == pytest.approx(3 * ten, rel=1e-3)


def test_stacked_segments_sit_on_each_other():
    markup = simple_bar(categories=["x"], series=[Series("a", [4]), Series("b", [6])])
    first, second = bars(markup)
    assert first["x"] == second["x"]
    assert second["y"] + second["height"] == pytest.approx(first["y"], abs=0.02)
    assert second["height"] == pytest.approx(1.5 * first["height"], rel=1e-3)
    assert ">10<" in markup  # the stack's total above it


def test_groups_stand_side_by_side():
    markup = simple_bar(
        categories=["x"], series=[Series("a", [4], group="received"), Series("b", [4], group="r")]
    )
    first, second = bars(markup)
    assert first["height"] == second["height"]
    assert second["x"] > first["x"]


def test_each_segment_links_to_its_own_list_and_has_a_tooltip():
    markup = simple_bar(series=[Series("Trực tuyến", [1, 2], links=["/a?x=1&y=2", None])])
    assert '<a href="/a?x=1&amp;y=2"><rect' in markup
    assert markup.count("<a href") == 1
    assert "<title>01/2026 — Trực tuyến: 1</title>" in markup


def test_all_zero_series_render_without_dividing_by_zero():
    for markup in (
        simple_bar(series=[Series("a", [0, 0])]),
        simple_bar(categories=[], series=[Series("a", [])]),
        hbar_chart(["x", "y"], [Series("a", [0, 0])], title="t", description="d", chart_id="h"),
        hbar_chart([], [], title="t", description="d", chart_id="h"),
        donut([Slice("a", 0), Slice("b", 0)], title="t", description="d", chart_id="z"),
    ):
        parse(markup)
        assert bars(markup) == []
        assert 'class="slice"' not in markup


def test_hbar_lengths_are_proportional_and_long_names_shortened():
    name = "UBND xã Có Một Cái Tên Rất Rất Dài Ở Vùng Cao Yên Bái"
    markup = hbar_chart(
        [name, "ngắn"], [Series("a", [40, 10])], title="t", description="d", chart_id="h"
    )
    long_bar, short_bar = bars(markup)
    assert long_bar["width"] == pytest.approx(4 * short_bar["width"], rel=1e-3)
    assert f"<title>{name}</title>" in markup  # whole in the tooltip
    assert "…" in markup


def test_donut_slices_share_the_ring_by_value():
    markup = donut([Slice("a", 3), Slice("b", 1)], title="t", description="d", chart_id="z")
    arcs = re.findall(r'stroke-dasharray="([\d.]+) ([\d.]+)"', markup)
    circumference = 2 * math.pi * 62
    lengths = [float(first) for first, _rest in arcs]
    assert lengths == pytest.approx([0.75 * circumference, 0.25 * circumference], rel=1e-3)
    # One slice of everything is a whole ring.
    whole = donut([Slice("a", 5), Slice("b", 0)], title="t", description="d", chart_id="z")
    (arc,) = re.findall(r'stroke-dasharray="([\d.]+) ([\d.]+)"', whole)
    assert float(arc[0]) == pytest.approx(circumference, rel=1e-3)


def test_numbers_are_written_the_vietnamese_way():
    with translation.override("vi"):
        assert format_count(62955) == "62.955"
        assert format_rate(0.99234) == "99,2\xa0%"
        assert format_rate(None) == "—"
        markup = simple_bar(series=[Series("a", [62955, 1])])
        assert ">62.955<" in markup
        assert "62.955" in donut([Slice("a", 62955)], title="t", description="d", chart_id="z")
    with translation.override("en"):
        assert format_count(62955) == "62,955"
        assert format_rate(0.5) == "50.0\xa0%"


@pytest.mark.parametrize(
    ("largest", "top", "step"),
    [
        (0, 4, 1),
        (3, 3, 1),
        (7, 8, 2),
        (10, 10, 5),
        (95, 100, 25),
        (280, 300, 100),
        (62955, 80000, 20000),
    ],
)
def test_the_value_axis_ends_at_a_round_number(largest, top, step):
    assert nice_scale(largest) == (top, step)
