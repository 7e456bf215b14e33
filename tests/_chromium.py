"""Finding Debian's Chromium for the real-browser tests (tests/test_browser.py, tests/test_live_ch2.py)."""
import os
import shutil
from pathlib import Path

import pytest


def find_chromium():
    """Path of a Chromium binary: $MDLN_CHROMIUM, /usr/bin/chromium, or one on PATH; None if there is none."""
    for cand in (os.environ.get("MDLN_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


def chromium_or_skip(what):
    """(path, pytest skip mark); raises when MDLN_REQUIRE_BROWSER is set (CI) and there is no Chromium."""
    path = find_chromium()
    if path is None and os.environ.get("MDLN_REQUIRE_BROWSER"):  # CI (.ci/run): never skip silently
        raise RuntimeError("MDLN_REQUIRE_BROWSER is set but no Chromium binary was found (/usr/bin/chromium)")
    mark = pytest.mark.skipif(
        path is None, reason="no Chromium binary found (install Debian's `chromium` package, as .ci/run does, "
                             f"or set MDLN_CHROMIUM) - {what} did not run")
    return path, mark
