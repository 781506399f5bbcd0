"""portal.kept_pages: markers that come out whole are cut into holes; any other is refused."""

import json
from urllib.parse import quote

import pytest
from django.template.defaultfilters import urlencode

from portal.kept_pages import Holes
from portal.links import login_link, page_url


def test_a_page_is_cut_at_its_holes_each_time_it_shows_one():
    holes = Holes()
    html = f"<p>{holes['code']}</p><a href='?c={holes['code']}'>{holes['unit']}</a>"
    assert holes.cut(html) == ("<p>", "code", "</p><a href='?c=", "code", "'>", "unit", "</a>")


def test_a_hole_that_never_shows_is_refused():
    holes = Holes()
    html = f"<p>{holes['code']}</p>"
    holes["unit"]  # asked for, never rendered
    assert holes.cut(html) is None


@pytest.mark.parametrize("changed", [quote, json.dumps, lambda marker: marker[1:-1]])
def test_a_marker_a_filter_changed_is_refused_even_beside_a_whole_one(changed):
    holes = Holes()
    assert holes.cut(f"{holes['path']}?next={changed(holes['path'])}") is None


def test_markers_differ_between_renders():
    assert Holes()["code"] != Holes()["code"]


@pytest.mark.parametrize(
    "path",
    [
        "/lookup/",
        "/lookup/?code=000.00.15.H61-221102-0001&phone=0912 345 678",
        "/tra cứu/?a=1&b=<x>%",
    ],
)
def test_the_login_link_quotes_the_path_as_the_urlencode_filter(path):
    assert login_link(path) == f"{page_url('login')}?next={urlencode(path)}"
