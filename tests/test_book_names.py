"""Every `mdln.…` name the book's prose quotes exists: a module moved or a function renamed in mdln
must not leave the reader a dead reference."""
import importlib
import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"
NAME = re.compile(r"`(mdln(?:\.[A-Za-z_][A-Za-z_0-9]*)+)")


def _prose(path):
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text())["cells"]
        return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text()


def _resolves(dotted):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


PAGES = sorted(p for p in BOOK.iterdir() if p.suffix in (".md", ".ipynb"))


def test_the_book_quotes_mdln_names():
    assert sum(len(NAME.findall(_prose(p))) for p in PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_quoted_mdln_name_exists(page):
    dead = sorted({m for m in NAME.findall(_prose(page)) if not _resolves(m)})
    assert not dead, f"{page.name} quotes names mdln does not have: {dead}"
