"""Read a report page back: its sections, and every reference it makes (src, href, url())."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from al_object_detection.report.page import SECTIONS


@dataclass
class Page:
    """What a page holds: text and tags per section, and every reference."""

    sections: dict[str, str] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self.section: str | None = None
        self.style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self.section = values.get("id") or ""
            self.page.sections[self.section] = ""
            self.page.tags[self.section] = []
        elif self.section is not None:
            self.page.tags[self.section].append(tag)
        self.style = tag == "style"
        for name in ("src", "href", "srcset", "action", "poster", "data"):
            if values.get(name):
                self.page.references.append(str(values[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.section = None
        self.style = False

    def handle_data(self, data: str) -> None:
        if self.style:
            found = re.findall(r"url\(\s*['\"]?([^'\")]*)|@import\s+['\"]?([^'\"\s;]+)", data)
            self.page.references += [url or imported for url, imported in found]
        if self.section is not None:
            self.page.sections[self.section] += data


def read_page(html_text: str) -> Page:
    """Parse a report page."""
    reader = _Reader()
    reader.feed(html_text)
    return reader.page


def check_self_contained(html_text: str) -> Page:
    """Every section is there and filled; images are inlined; nothing points outside."""
    page = read_page(html_text)
    assert list(page.sections) == list(SECTIONS), page.sections.keys()
    for key, text in page.sections.items():
        assert len(text.strip()) > len(SECTIONS[key]) + 10, f"section {key} is empty: {text!r}"
    for reference in page.references:
        assert reference.startswith("data:image/"), f"a reference out of the page: {reference[:80]}"
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html_text, re.I)
    assert "<script" not in html_text.lower()
    assert "<link" not in html_text.lower()
    return page
