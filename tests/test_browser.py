"""The rendered book as a reader meets it, checked in a real headless Chromium (issue: rendered book).

Builds a copy of the book into a temporary folder, serves it on 127.0.0.1 and visits every page of the
table of contents with Debian's ``chromium`` driven by Playwright (``executable_path``, no browser download):

- every page loads with no console error, no uncaught exception and no failed request, except requests to
  the explicit CDN allow-list below (online readers load those normally; this machine has no internet, so
  every request that leaves 127.0.0.1 is aborted on purpose, which makes the test the same with or without
  a network);
- MathJax (served from the book itself) rendered every equation: one ``mjx-container`` per math element,
  no MathJax error box, no raw ``$$`` left in the text;
- every kernel-free scrubber (matplotlib ``to_jshtml``) shows a different frame when its slider is moved
  with the keyboard, and the first frame again when moved back;
- every internal link of the navigation and of the pages resolves (HTTP 200), anchors included;
- every page, its HTML and images, weighs less than 5 MB.

Screenshots of every page and every scrubber go to ``_build/screenshots/``.
Skipped, with a message, only when no Chromium binary is installed.
"""
from __future__ import annotations

import functools
import html as htmllib
import os
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import urlopen

import pytest

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "_build" / "screenshots"

# Requests that may fail because this machine is offline; every one is a CDN asset that online readers
# load normally. Anything else that fails (a missing local file, another host) fails the test.
ALLOWED_FAILED_URL_PREFIXES = (
    "https://cdnjs.cloudflare.com/ajax/libs/require.js/",            # require.js, for embedded widgets
    "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@",     # the ipywidgets HTML manager
    "https://unpkg.com/@jupyter-widgets/html-manager@",                # (its fallback location)
    "https://maxcdn.bootstrapcdn.com/font-awesome/4.4.0/css/font-awesome.min.css",  # scrubber icons
)

MAX_PAGE_BYTES = 5_000_000  # every page of the book, HTML and its images, stays under ~5 MB

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]

_IGNORE_COPY = shutil.ignore_patterns(".git", "_build", ".venv", "venv", ".mdln_cache", "results", "__pycache__",
                                      ".ipynb_checkpoints", "*.egg-info", ".pytest_cache", "node_modules")


def _chromium():
    for cand in (os.environ.get("MDLN_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


CHROMIUM = _chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium binary found (install Debian's `chromium` package, as .ci/run does, "
                             "or set MDLN_CHROMIUM) - the real-browser test of the rendered book did not run")


def _toc_files(toc: dict) -> list[str]:
    """Every document of a jb-book _toc.yml, in reading order."""
    out = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                out.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    walk(toc.get("sections"))
    return [re.sub(r"\.(md|ipynb|rst)$", "", f) for f in out]


def _jupyter_book():
    cand = Path(sys.executable).with_name("jupyter-book")
    return str(cand) if cand.exists() else shutil.which("jupyter-book")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A fresh build of the current working tree, served on 127.0.0.1: (base_url, html_dir, pages)."""
    import yaml
    src = tmp_path_factory.mktemp("book") / "src"
    shutil.copytree(REPO, src, ignore=_IGNORE_COPY)
    jb = _jupyter_book()
    assert jb, "jupyter-book is not installed"
    # Warnings are checked by CI's own `jupyter-book build -W -n`; here we need the pages themselves.
    proc = subprocess.run([jb, "build", "--keep-going", str(src)], capture_output=True, text=True, timeout=900)
    html_dir = src / "_build" / "html"
    assert proc.returncode == 0 and (html_dir / "index.html").exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    toc = yaml.safe_load((src / "_toc.yml").read_text())
    pages = _toc_files(toc)

    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", html_dir, pages
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # a dependency of the project (requirements.txt), so this is a real failure
        pytest.fail("the `playwright` Python package is missing: pip install -r requirements.txt")
    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()
        pw.stop()


def _allowed(url: str) -> bool:
    return url.startswith(ALLOWED_FAILED_URL_PREFIXES)


class _PageLog:
    """Console errors, uncaught exceptions and failed requests of one page visit."""

    def __init__(self, page, base):
        self.errors, self.failed, self.offsite = [], [], []
        self.page_bytes = 0  # the page's own weight: its HTML and images, not the shared _static/ assets
        self.base = base
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught exception: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)
        page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:  # offline by construction: nothing leaves 127.0.0.1
            self.offsite.append(url)
            route.abort("internetdisconnected")

    def _console(self, msg):
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        if msg.text.startswith("Failed to load resource") and _allowed(where):
            return
        self.errors.append(f"console error: {msg.text} (at {where})")

    def _failed(self, request):
        if not _allowed(request.url):
            self.failed.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400 and not _allowed(response.url):
            self.failed.append(f"HTTP {response.status}: {response.url}")
        elif response.url.startswith(self.base) and "/_static/" not in response.url:
            self.page_bytes += int(response.headers.get("content-length") or 0)


_MATH_JS = """() => {
  const maths = Array.from(document.querySelectorAll('article .math, main .math'));
  const unrendered = maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 80));
  const article = (document.querySelector('article') || document.body).cloneNode(true);
  article.querySelectorAll('pre, code, script, style, textarea').forEach(e => e.remove());
  return {n_math: maths.length,
          n_rendered: document.querySelectorAll('mjx-container').length,
          unrendered: unrendered,
          // MathJax errors, and undefined macros (noundefined shows their name in red)
          merrors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80))
            .concat(Array.from(document.querySelectorAll('mjx-assistive-mml [mathcolor="red"]'))
              .map(e => e.textContent).filter(t => t.startsWith('\\\\'))),
          raw_dollars: (article.textContent.match(/\\$\\$/g) || []).length,
          raw_inline: (article.textContent.match(/\\\\\\(|\\\\\\[/g) || []).length};
}"""

_SRC_JS = "el => el.src.length + ':' + el.src.slice(-96)"


def test_every_page_renders_in_chromium(site, browser):
    base, html_dir, pages = site
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems, internal_links, n_scrubbers, n_math, weights = [], set(), 0, 0, {}
    assert len(pages) >= 3, pages
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        for doc in pages:
            url = urljoin(base, doc + ".html")
            if not (html_dir / (doc + ".html")).exists():
                problems.append(f"{doc}: listed in _toc.yml but no {doc}.html was built")
                continue
            page = context.new_page()
            log = _PageLog(page, base)
            resp = page.goto(url, wait_until="load", timeout=60_000)
            if resp is None or resp.status != 200:
                problems.append(f"{doc}: HTTP {None if resp is None else resp.status}")
                page.close()
                continue
            # MathJax is served from _static/mathjax: wait for its typesetting to finish
            has_mathjax = page.evaluate("() => typeof MathJax !== 'undefined' && !!MathJax.startup")
            if has_mathjax:
                page.evaluate("() => MathJax.startup.promise")
            m = page.evaluate(_MATH_JS)
            n_math += m["n_math"]
            if m["n_math"] and not has_mathjax:
                problems.append(f"{doc}: {m['n_math']} equations but MathJax did not load")
            if m["unrendered"]:
                problems.append(f"{doc}: equations not rendered by MathJax: {m['unrendered'][:3]}")
            if m["merrors"]:
                problems.append(f"{doc}: MathJax errors (undefined macro?): {m['merrors'][:3]}")
            if m["raw_dollars"] or m["raw_inline"]:
                problems.append(f"{doc}: raw TeX delimiters left in the text ($$: {m['raw_dollars']}, "
                                f"\\( or \\[: {m['raw_inline']})")
            shot = SCREENSHOTS / (doc.replace("/", "__") + ".png")
            page.screenshot(path=str(shot), full_page=False)

            # kernel-free scrubbers: moving the slider must change the displayed frame
            for k, img in enumerate(page.query_selector_all("img[id^='_anim_img']")):
                n_scrubbers += 1
                uid = img.get_attribute("id")[len("_anim_img"):]
                slider = page.query_selector(f"#_anim_slider{uid}")
                label = f"{doc}: scrubber {k + 1}"
                if slider is None:
                    problems.append(f"{label}: no slider")
                    continue
                n_frames = int(slider.get_attribute("max") or 0) + 1
                img.scroll_into_view_if_needed()
                page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img, timeout=10_000)
                first = img.evaluate(_SRC_JS)
                if n_frames < 2:
                    problems.append(f"{label}: only {n_frames} frame")
                    continue
                slider.focus()
                page.keyboard.press("End")
                page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img, timeout=10_000)
                last = img.evaluate(_SRC_JS)
                value = slider.evaluate("el => el.value")
                if last == first or value != str(n_frames - 1):
                    problems.append(f"{label}: the frame did not change when the slider moved to its end "
                                    f"(value {value} of {n_frames - 1})")
                box = img.evaluate_handle("el => el.closest('.animation') || el.parentElement").as_element()
                (box or img).screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '__')}__scrubber{k + 1}.png"))
                page.keyboard.press("Home")
                if img.evaluate(_SRC_JS) != first:
                    problems.append(f"{label}: moving the slider back did not show the first frame again")

            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                if href.startswith(base):
                    internal_links.add(href)
            page.close()
            if log.page_bytes > MAX_PAGE_BYTES:
                problems.append(f"{doc}: the page weighs {log.page_bytes / 1e6:.1f} MB (HTML and images), "
                                f"over {MAX_PAGE_BYTES / 1e6:.0f} MB: fewer scrubber frames or a lower dpi")
            weights[doc] = log.page_bytes
            for msg in log.errors + log.failed:
                problems.append(f"{doc}: {msg}")
            for off in log.offsite:
                if not _allowed(off):
                    problems.append(f"{doc}: request to a host outside the allow-list: {off}")
    finally:
        context.close()

    # every internal link resolves, and its #anchor exists on the target page
    texts = {}
    for href in sorted(internal_links):
        target, frag = urldefrag(href)
        if target not in texts:
            try:
                with urlopen(target, timeout=10) as r:
                    texts[target] = r.read().decode("utf-8", "replace") if r.status == 200 else None
            except OSError as exc:
                texts[target] = None
                problems.append(f"broken link {href}: {exc}")
                continue
        body = texts[target]
        if body is None:
            continue
        if frag and urlparse(target).path.endswith(".html") and not re.search(
                r'id=["\']' + re.escape(htmllib.escape(frag, quote=True)) + r'["\']', body):
            problems.append(f"link to a missing anchor: {href}")

    print(f"browser test: {len(pages)} pages, {n_math} equations, {n_scrubbers} scrubbers, "
          f"{len(internal_links)} internal links, heaviest page {max(weights.values(), default=0) / 1e6:.2f} MB; "
          f"screenshots in {SCREENSHOTS}")
    assert not problems, "\n".join(problems)
    assert n_math > 0, "no equation found in the whole book: the MathJax check checked nothing"
