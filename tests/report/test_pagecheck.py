"""The page check itself: it must catch a missing section, an empty one and any outside link."""

from __future__ import annotations

import pytest

from al_object_detection.report.page import SECTIONS
from tests.report.pagecheck import check_self_contained

PIXEL = "data:image/png;base64,iVBORw0KGgo="


def page(extra: str = "", skip: str = "", empty: str = "") -> str:
    sections = "".join(
        f'<section id="{key}"><h2>{title}</h2>'
        + ("" if key == empty else f'<p>filled with real content</p><img src="{PIXEL}">')
        + "</section>"
        for key, title in SECTIONS.items()
        if key != skip
    )
    return f"<html><head><style>p{{color:red}}</style></head><body>{sections}{extra}</body></html>"


def test_a_good_page_passes() -> None:
    check_self_contained(page())


@pytest.mark.parametrize(
    "extra",
    [
        '<img src="https://example.com/a.png">',
        '<a href="http://example.com">x</a>',
        '<img src="//cdn.example.com/a.png">',
        '<script src="x.js"></script>',
        "<style>body{background:url(https://example.com/b.png)}</style>",
        '<img src="thumbs/a.jpg">',
    ],
)
def test_any_reference_out_of_the_page_fails(extra: str) -> None:
    with pytest.raises(AssertionError):
        check_self_contained(page(extra))


def test_a_missing_or_empty_section_fails() -> None:
    with pytest.raises(AssertionError):
        check_self_contained(page(skip="picks"))
    with pytest.raises(AssertionError):
        check_self_contained(page(empty="stopping"))
