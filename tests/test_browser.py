"""The rendered book as a reader meets it, checked in a real headless Chromium.

Builds a copy of the book into a temporary folder, serves it on 127.0.0.1 and visits every page of the
table of contents with Debian's ``chromium`` driven by Playwright (``executable_path``, no browser download)
in a 1400 px wide window, and again at 1280 px (a laptop) for the layout checks. Every page must have:

- no console error, no uncaught exception, no failed request and no request that leaves the book (the
  allow-list is empty: this machine is offline by construction, every request that leaves 127.0.0.1 is
  aborted and reported, so the test is the same with or without a network);
- every equation rendered by MathJax (served from the book itself), no MathJax error box;
- no raw TeX in the visible text outside rendered math and code: no ``$``, no TeX command (``\\pm``,
  ``\\frac``, ...), no ``_{``/``^{``, no ``\\(``/``\\[`` (in the API page's docstrings, which are the
  source's plain text, ``w_{k+1}``-style subscripts are the code's own notation and allowed);
- at 1280 and 1400 px, no output block and no code input wider than its box (``scrollWidth >
  clientWidth`` of any element of a cell's output or input: it would scroll sideways);
- no figure shown at less than 1/1.6 of its natural width when that width exceeds 900 px (it is then
  shrunk so much that its text is unreadable);
- no ipywidget output (``application/vnd.jupyter.widget-view+json``, ``.jupyter-widgets``) on the static
  page: without a kernel it is an empty box (or an inert one); widget cells carry ``remove-output``;
- no visible ``NBVAL`` text (nbval markers are cell tags, not ``# NBVAL_*`` comments);
- no stderr output (warnings, progress bars) stored with a cell, e.g. ``mdln.scrubber``'s warning that a
  precomputed slider's text would show below 9 px;
- kernel-free scrubbers (matplotlib ``to_jshtml``) that show another frame when their slider is moved with
  the keyboard, and the first frame again when moved back;
- two-slider (γ, β) scrubbers (``mdln.scrubber2d``): each slider moved with the keyboard shows another
  frame, and the readout's γ, β and λ are the shown pair's, λ = γ/(1−β)² (Proposition 1);
- at 400 px (``NARROW_PAGES``): the text of every precomputed slider's frames shown at least 7 px tall (from
  the ``data-text-px`` its HTML carries), and the prev/next footer titles not wrapped word by word;
- internal links that resolve (HTTP 200), anchors included; a weight (HTML and images) under 5 MB.

Every failure names the page and the offending element (section anchor, cell number and first code line,
or directive title), the window width when it matters, and text. Full-page screenshots of every page at
1400 px, and of two pages at 400 px, go to ``_build/screenshots/``.

The same checks run standalone on an existing build (no rebuild):

    python tests/test_browser.py _build/html [--report findings.md]

Skipped, with a message, only when no Chromium binary is installed.
"""
from __future__ import annotations

import argparse
import functools
import html as htmllib
import re
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import urlopen

import pytest

from _chromium import chromium_or_skip

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "_build" / "screenshots"

# Requests that may leave the book: none. (No require.js and no ipywidgets HTML manager: _config.yml loads
# neither, nb_ipywidgets_js: {}; the scrubbers' font-awesome CDN link is replaced by plain-text buttons,
# mdln.widgets.offline_jshtml and _ext/offline_pages.py.)
ALLOWED_FAILED_URL_PREFIXES: tuple[str, ...] = ()

MAX_PAGE_BYTES = 5_000_000  # every page of the book, HTML and its images, stays under ~5 MB
WIDE = 1400                 # the desktop window width every page is checked at (all checks, screenshots)
LAPTOP = 1280               # a laptop: the layout checks again (nothing wider than its box)
NARROW = 400                # a phone-sized window: screenshots of NARROW_PAGES, slider text, footer
MIN_PHONE_TEXT_PX = 7.0     # a precomputed slider's smallest text, as shown at NARROW
NARROW_PAGES = ("book/intro", "book/02_discrete_to_continuous")
BIG_FIGURE_PX = 900         # a figure wider than this (natural width) ...
MAX_SHRINK = 1.6            # ... must not be displayed at less than 1/1.6 of it

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage"]

_IGNORE_COPY = shutil.ignore_patterns(".git", "_build", ".venv", "venv", ".mdln_cache", "results", "__pycache__",
                                      ".ipynb_checkpoints", "*.egg-info", ".pytest_cache", "node_modules")


CHROMIUM, pytestmark = chromium_or_skip("the real-browser test of the rendered book")


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


def toc_pages(book_root: Path = REPO) -> list[str]:
    """The pages of the book's _toc.yml, in reading order (``book/02_discrete_to_continuous``, ...)."""
    import yaml
    return _toc_files(yaml.safe_load((Path(book_root) / "_toc.yml").read_text()))


def _jupyter_book():
    cand = Path(sys.executable).with_name("jupyter-book")
    return str(cand) if cand.exists() else shutil.which("jupyter-book")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def serve(html_dir: Path):
    """Serve ``html_dir`` on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def chromium():
    """A headless Debian chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


def _allowed(url: str) -> bool:
    return bool(ALLOWED_FAILED_URL_PREFIXES) and url.startswith(ALLOWED_FAILED_URL_PREFIXES)


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
  return {n_math: maths.length,
          unrendered: unrendered,
          // MathJax errors, and undefined macros (noundefined shows their name in red)
          merrors: Array.from(document.querySelectorAll('mjx-merror')).map(e => e.textContent.slice(0, 80))
            .concat(Array.from(document.querySelectorAll('mjx-assistive-mml [mathcolor="red"]'))
              .map(e => e.textContent).filter(t => t.startsWith('\\\\')))};
}"""

# The reader-facing checks of one page, in the page itself. Each finding is [kind, where, what].
_READER_JS = r"""([bigPx, maxShrink, layoutOnly]) => {
  const root = document.querySelector('article.bd-article') || document.querySelector('article')
               || document.querySelector('main') || document.body;
  const out = [];
  const visible = el => {
    if (!el || !el.getClientRects().length) return false;
    const cs = getComputedStyle(el);
    return cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const clip = (s, n) => { s = s.replace(/\s+/g, ' ').trim(); return s.length > n ? s.slice(0, n) + '…' : s; };
  const cells = Array.from(root.querySelectorAll('.cell'));
  // where an element sits: section anchor, directive title, cell number and its first code line
  const where = el => {
    const parts = [];
    const sec = el.closest('section[id]');
    if (sec) parts.push('#' + sec.id);
    const box = el.closest('.admonition, .proof, figure');
    if (box) {
      const t = box.querySelector('.admonition-title, .caption-number, figcaption');
      if (t) parts.push('in "' + clip(t.textContent, 60) + '"');
    }
    const cell = el.closest('.cell');
    if (cell) {
      const code = cell.querySelector('.cell_input pre');
      const first = code ? code.textContent.split('\n').map(s => s.trim())
                                 .filter(s => s && !s.includes('NBVAL'))[0] || '' : '';
      parts.push('cell ' + (cells.indexOf(cell) + 1) + (first ? ' (`' + clip(first, 70) + '`)' : ''));
    }
    return parts.join(' › ') || el.tagName.toLowerCase();
  };

  // 1. raw TeX in visible text, outside rendered math and code (once per page: not a matter of width)
  const SKIP = 'mjx-container, .math, pre, code, script, style, textarea, .highlight, .MathJax, ' +
               'mjx-assistive-mml, .headerlink';
  const TEX = /\$|\\[A-Za-z]+|\\[()\[\]{}]|[_^]\{/g;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node;
  while (!layoutOnly && (node = walker.nextNode())) {
    const p = node.parentElement;
    if (!p || p.closest(SKIP) || !visible(p)) continue;
    const text = node.textContent;
    // the API page's docstrings are source text: `w_{k+1}`, `e^{−t/λ}` are the code's plain-text
    // formulas there, while `$` and TeX commands would still be TeX that was never typeset
    const docstring = !!p.closest('.mdln-docstrings');
    const tokens = [...new Set(text.match(TEX) || [])]
                     .filter(t => !(docstring && /^[_^]\{$/.test(t)));
    if (!tokens.length) continue;
    const i = text.search(docstring ? /\$|\\[A-Za-z()\[\]{}]/ : /\$|\\[A-Za-z()\[\]{}]|[_^]\{/);
    const ctx = text.slice(Math.max(0, i - 30), i + 70);
    out.push(['raw TeX', where(p), tokens.map(t => '`' + t + '`').join(' ') + ' in "' + clip(ctx, 100) + '"']);
  }

  // 2. output blocks wider than their box (cut off, or a horizontal scroll bar)
  const reported = new Set();
  for (const el of root.querySelectorAll('.cell_output, .cell_output *')) {
    // inline-math wrappers (span.math) report the italic overhang of their glyph as a few px of overflow
    if (el.closest('mjx-container') || el.matches('span.math') || !visible(el) || el.clientWidth === 0) continue;
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    const block = el.closest('.cell_output > *') || el;
    if (reported.has(block)) continue;
    reported.add(block);
    let what = '';
    const pre = block.matches('pre') ? block : block.querySelector('pre');
    if (pre) {
      const lines = pre.textContent.split('\n');
      const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
      what = `longest line (${longest.length} chars): "${clip(longest, 100)}"`;
    } else {
      const img = block.querySelector('img');
      what = img ? 'image ' + img.src.split('/').pop().slice(0, 60) : clip(block.textContent, 80);
    }
    out.push(['output overflow', where(block),
              `${el.tagName.toLowerCase()} content ${el.scrollWidth} px wide in a ${el.clientWidth} px box; ${what}`]);
  }

  // 2b. code inputs wider than their box (a code line longer than the cell: it scrolls sideways)
  const reportedIn = new Set();
  for (const el of root.querySelectorAll('.cell_input, .cell_input *')) {
    if (!visible(el) || el.clientWidth === 0 || el.scrollWidth <= el.clientWidth + 1) continue;
    const block = el.closest('.cell_input') || el;
    if (reportedIn.has(block)) continue;
    reportedIn.add(block);
    const pre = block.querySelector('pre');
    const lines = pre ? pre.textContent.split('\n') : [];
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), '');
    out.push(['input overflow', where(block),
              `${el.tagName.toLowerCase()} content ${el.scrollWidth} px wide in a ${el.clientWidth} px box; ` +
              `longest line (${longest.length} chars): "${clip(longest, 100)}"`]);
  }

  // 3. big figures shrunk below 1/maxShrink of their natural width
  for (const img of root.querySelectorAll('img')) {
    if (!visible(img) || !img.complete || img.naturalWidth <= bigPx) continue;
    const shown = img.getBoundingClientRect().width;
    if (shown * maxShrink < img.naturalWidth) {
      const name = img.src.startsWith('data:') ? 'embedded frame (' + (img.id || 'img') + ')'
                                                : img.src.split('/').pop();
      out.push(['shrunk figure', where(img),
                `${name}: natural width ${img.naturalWidth} px shown at ${Math.round(shown)} px ` +
                `(1/${(img.naturalWidth / shown).toFixed(2)})`]);
    }
  }

  if (layoutOnly) return out;  // the checks below do not depend on the window's width

  // 4. ipywidget outputs on the static page (empty without a kernel, inert with one)
  const wboxes = new Set();
  for (const s of root.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]'))
    wboxes.add(s.closest('.cell_output') || s.parentElement);
  for (const w of root.querySelectorAll('.jupyter-widgets, .widget-area, .jupyter-widgets-output-area'))
    wboxes.add(w.closest('.cell_output') || w);
  for (const box of wboxes) {
    if (!visible(box)) continue;
    const media = Array.from(box.querySelectorAll('img, canvas, svg, video'))
                       .some(e => visible(e) && e.getBoundingClientRect().width > 0);
    const text = box.innerText.trim();
    out.push(['widget box', where(box), (text || media)
      ? 'an ipywidget shown on the static page (inert without a kernel): tag the cell remove-output'
      : 'an empty ipywidget box (no kernel on the static page): tag the cell remove-output']);
  }

  // 5. visible nbval markers
  const w2 = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while ((node = w2.nextNode())) {
    const p = node.parentElement;
    if (!p || !visible(p) || !node.textContent.includes('NBVAL')) continue;
    const line = node.textContent.split('\n').find(l => l.includes('NBVAL'));
    out.push(['NBVAL text', where(p), '"' + clip(line, 80) + '" is visible: use the cell tag nbval-ignore-output']);
  }

  // 6. warnings and other stderr text stored with a cell's output (e.g. mdln.scrubber's legibility warning)
  for (const e of root.querySelectorAll('.cell_output .stderr')) {
    if (!visible(e)) continue;
    const line = e.textContent.split('\n').map(l => l.trim()).filter(l => l)[0] || '';
    out.push(['stderr output', where(e), '"' + clip(line, 160) + '"']);
  }
  return out;
}"""

_SRC_JS = "el => el.src.length + ':' + el.src.slice(-96)"

_WAIT_IMAGES_JS = """() => Promise.race([new Promise(r => setTimeout(r, 15000)),
    Promise.all(Array.from(document.images).map(img => img.complete ? null :
      new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r); })))])"""


def _check_scrubbers(page, doc, shots):
    """Every kernel-free scrubber shows another frame at the slider's end and the first one back home."""
    problems, n = [], 0
    for k, img in enumerate(page.query_selector_all("img[id^='_anim_img']")):
        n += 1
        uid = img.get_attribute("id")[len("_anim_img"):]
        slider = page.query_selector(f"#_anim_slider{uid}")
        label = f"scrubber {k + 1}"
        if slider is None:
            problems.append(("scrubber", label, "no slider"))
            continue
        n_frames = int(slider.get_attribute("max") or 0) + 1
        img.scroll_into_view_if_needed()
        page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img, timeout=10_000)
        first = img.evaluate(_SRC_JS)
        if n_frames < 2:
            problems.append(("scrubber", label, f"only {n_frames} frame"))
            continue
        slider.focus()
        page.keyboard.press("End")
        page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img, timeout=10_000)
        last = img.evaluate(_SRC_JS)
        value = slider.evaluate("el => el.value")
        if last == first or value != str(n_frames - 1):
            problems.append(("scrubber", label, f"the frame did not change when the slider moved to its end "
                                                f"(value {value} of {n_frames - 1})"))
        if shots is not None:
            box = img.evaluate_handle("el => el.closest('.animation') || el.parentElement").as_element()
            (box or img).screenshot(path=str(shots / f"{doc.replace('/', '__')}__scrubber{k + 1}.png"))
        page.keyboard.press("Home")
        if img.evaluate(_SRC_JS) != first:
            problems.append(("scrubber", label, "moving the slider back did not show the first frame again"))
    return problems, n


# The two-slider (γ, β) scrubbers of mdln.scrubber2d: the readout of the pair shown, and which frame.
_S2D_STATE_JS = """root => {
  const num = c => parseFloat(root.querySelector('.mdln-s2d-' + c).textContent);
  const G = JSON.parse(root.dataset.gammas), B = JSON.parse(root.dataset.betas);
  const i = +root.querySelector('.mdln-s2d-g').value, j = +root.querySelector('.mdln-s2d-b').value;
  const img = root.querySelector('img');
  return {i: i, j: j, gamma: G[i], beta: B[j], n_g: G.length, n_b: B.length,
          shown: {gamma: num('gamma'), beta: num('beta'), lam: num('lam'), eps: num('eps')},
          src: img.src.length + ':' + img.src.slice(-96), frame: img.getAttribute('data-frame')};
}"""


def _readout_problems(state, label):
    """The readout of ``state`` against the shown pair: γ and β its grid values, λ = γ/(1−β)², ε = γ/(1−β)."""
    g, b, shown = state["gamma"], state["beta"], state["shown"]
    expected = dict(gamma=g, beta=b, lam=g / (1 - b) ** 2, eps=g / (1 - b))
    return [("scrubber2d", label, f"readout {k} = {shown[k]!r} at (γ, β) = ({g:g}, {b:g}), expected {v:.4g}")
            for k, v in expected.items()
            if not (shown[k] == shown[k] and abs(shown[k] - v) <= 6e-4 * max(abs(v), 1e-12))]


def _check_scrubbers2d(page, doc, shots):
    """Every (γ, β) scrubber: each slider moved to its end and back shows other frames, whose readout is the
    shown pair's (λ = γ/(1−β)², Proposition 1)."""
    problems, n = [], 0
    for k, root in enumerate(page.query_selector_all(".mdln-scrubber2d")):
        n += 1
        label = f"(γ, β) scrubber {k + 1}"
        root.scroll_into_view_if_needed()
        state = root.evaluate(_S2D_STATE_JS)
        problems += _readout_problems(state, label)
        first = state["src"]
        for cls, name, n_values in (("g", "γ", state["n_g"]), ("b", "β", state["n_b"])):
            if n_values < 2:
                problems.append(("scrubber2d", label, f"the {name} slider has only {n_values} value"))
                continue
            root.query_selector(f".mdln-s2d-{cls}").focus()
            page.keyboard.press("End")
            moved = root.evaluate(_S2D_STATE_JS)
            problems += _readout_problems(moved, label)
            if moved["src"] == state["src"] or moved["frame"] == state["frame"]:
                problems.append(("scrubber2d", label, f"the frame did not change when the {name} slider moved "
                                                      f"to its end ({state['frame']} → {moved['frame']})"))
            state = moved
        if shots is not None:
            root.screenshot(path=str(shots / f"{doc.replace('/', '__')}__scrubber2d{k + 1}.png"))
        for cls in ("g", "b"):
            root.query_selector(f".mdln-s2d-{cls}").focus()
            page.keyboard.press("Home")
        back = root.evaluate(_S2D_STATE_JS)
        problems += _readout_problems(back, label)
        if back["src"] != first:
            problems.append(("scrubber2d", label, "moving both sliders back did not show the first frame again"))
    return problems, n


# At NARROW: the precomputed sliders' smallest text as shown (data-text-px × shown / natural width) and the
# prev/next footer (a title on as many lines as it has words wraps word by word).
_PHONE_JS = r"""minPx => {
  const out = [];
  const sliders = Array.from(document.querySelectorAll('img[id^="_anim_img"], .mdln-scrubber2d img'));
  sliders.forEach((img, k) => {
    if (!img.naturalWidth) return;
    const box = img.closest('[data-text-px]');
    const label = 'precomputed slider ' + (k + 1);
    if (!box) { out.push(['phone text', label, 'no data-text-px: its text size is unknown (re-run the cell)']); return; }
    const shown = parseFloat(box.dataset.textPx) * img.getBoundingClientRect().width / img.naturalWidth;
    if (shown < minPx)
      out.push(['phone text', label, `smallest text shown ${shown.toFixed(1)} px tall (natural ` +
                `${box.dataset.textPx} px on ${img.naturalWidth} px, shown ${Math.round(img.getBoundingClientRect().width)} px)`]);
  });
  for (const t of document.querySelectorAll('.prev-next-area .prev-next-title')) {
    const words = t.textContent.trim().split(/\s+/).length;
    const lh = parseFloat(getComputedStyle(t).lineHeight) || 20;
    const lines = Math.round(t.getBoundingClientRect().height / lh);
    if (words >= 2 && lines >= words)
      out.push(['footer', 'prev/next', `"${t.textContent.trim()}" wraps word by word (${lines} lines)`]);
  }
  return out;
}"""


def check_site(html_dir, pages=None, screenshots=SCREENSHOTS, browser=None, check_links=True,
               widths=(WIDE, LAPTOP, NARROW)):
    """Run every reader-facing check on a built book in ``html_dir``; no rebuild.

    Returns ``(findings, stats)``: ``findings`` maps each page to a list of ``(kind, where, what)`` tuples
    (empty when the page is clean); ``stats`` counts pages, equations, scrubbers, links, the heaviest page
    and each page's weight (``page_mb``). At ``WIDE`` every check runs; then the same page is narrowed to
    ``LAPTOP`` and the layout checks (overflow, shrunk figures) run again, their findings saying "at 1280 px"
    (no second load, no second typesetting), and ``NARROW_PAGES`` to ``NARROW`` for the
    precomputed sliders' text size and the footer. ``screenshots`` (a folder, or None) receives a
    full-page PNG of every page at 1400 px and of ``NARROW_PAGES`` at 400 px.
    """
    html_dir = Path(html_dir)
    pages = list(pages) if pages is not None else toc_pages(REPO)
    shots = Path(screenshots) if screenshots is not None else None
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    findings = {doc: [] for doc in pages}
    findings["(links)"] = []
    stats = dict(pages=len(pages), equations=0, scrubbers=0, scrubbers2d=0, links=0, heaviest_mb=0.0,
                 page_mb={})
    internal_links = set()
    with serve(html_dir) as base, (chromium() if browser is None else _nullctx(browser)) as b:
        for width in [w for w in widths if w == WIDE]:
            context = b.new_context(viewport={"width": width, "height": 900})
            try:
                for doc in pages:
                    f = findings[doc]
                    if not (html_dir / (doc + ".html")).exists():
                        if width == WIDE:
                            f.append(("missing page", doc, "listed in _toc.yml but no HTML was built"))
                        continue
                    page = context.new_page()
                    try:
                        log = _PageLog(page, base)
                        resp = page.goto(urljoin(base, doc + ".html"), wait_until="load", timeout=60_000)
                        if resp is None or resp.status != 200:
                            f.append(("HTTP", doc, f"status {None if resp is None else resp.status}"))
                            continue
                        _check_page(page, doc, f, stats, shots)
                        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                            if href.startswith(base):
                                internal_links.add(href)
                        if LAPTOP in widths:  # the in-page checks again in the same page, narrowed
                            _narrow(page, LAPTOP)
                            layout = [BIG_FIGURE_PX, MAX_SHRINK, True]
                            for kind, where, what in page.evaluate(_READER_JS, layout):
                                f.append((kind, f"at {LAPTOP} px › {where}", what))
                        if NARROW in widths and doc in NARROW_PAGES:  # and as a phone shows it
                            _narrow(page, NARROW)
                            for kind, where, what in page.evaluate(_PHONE_JS, MIN_PHONE_TEXT_PX):
                                f.append((kind, f"at {NARROW} px › {where}", what))
                            if shots is not None:
                                page.screenshot(path=str(shots / f"{doc.replace('/', '__')}@{NARROW}.png"),
                                                full_page=True)
                        page.close()
                        if log.page_bytes > MAX_PAGE_BYTES:
                            f.append(("page weight", doc, f"{log.page_bytes / 1e6:.1f} MB (HTML and images), over "
                                      f"{MAX_PAGE_BYTES / 1e6:.0f} MB: fewer scrubber frames or a lower dpi"))
                        stats["heaviest_mb"] = max(stats["heaviest_mb"], log.page_bytes / 1e6)
                        stats["page_mb"][doc] = round(log.page_bytes / 1e6, 2)
                        for msg in log.errors:
                            f.append(("console", doc, msg))
                        for msg in log.failed:
                            f.append(("request", doc, msg))
                        for off in log.offsite:
                            if not _allowed(off):
                                f.append(("request", doc, f"request to a host outside the book: {off}"))
                    finally:
                        if not page.is_closed():
                            page.close()
            finally:
                context.close()
        if check_links:
            stats["links"] = len(internal_links)
            findings["(links)"] = _check_links(internal_links)
    return findings, stats


def _narrow(page, width):
    """Resize the page's window to ``width`` px and wait for the new layout to be painted."""
    page.set_viewport_size({"width": width, "height": 900})
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.evaluate(_WAIT_IMAGES_JS)


@contextmanager
def _nullctx(x):
    yield x


def _wait_typeset(page):
    """Wait for MathJax (served from _static/mathjax) to finish typesetting and for the images; True if
    the page has MathJax."""
    has_mathjax = page.evaluate("() => typeof MathJax !== 'undefined' && !!MathJax.startup")
    if has_mathjax:
        page.evaluate("() => MathJax.startup.promise")
    page.evaluate(_WAIT_IMAGES_JS)
    return has_mathjax


def _check_page(page, doc, f, stats, shots):
    has_mathjax = _wait_typeset(page)
    m = page.evaluate(_MATH_JS)
    stats["equations"] += m["n_math"]
    if m["n_math"] and not has_mathjax:
        f.append(("math", doc, f"{m['n_math']} equations but MathJax did not load"))
    for t in m["unrendered"]:
        f.append(("math", doc, f"equation not rendered by MathJax: {t!r}"))
    for t in m["merrors"]:
        f.append(("math", doc, f"MathJax error (undefined macro?): {t!r}"))
    for kind, where, what in page.evaluate(_READER_JS, [BIG_FIGURE_PX, MAX_SHRINK, False]):
        f.append((kind, where, what))
    if shots is not None:
        page.screenshot(path=str(shots / f"{doc.replace('/', '__')}.png"), full_page=True)
    probs, n = _check_scrubbers(page, doc, shots)
    stats["scrubbers"] += n
    f.extend(probs)
    probs, n = _check_scrubbers2d(page, doc, shots)
    stats["scrubbers2d"] += n
    f.extend(probs)


def _check_links(internal_links):
    """Every internal link resolves, and its #anchor exists on the target page."""
    problems, texts = [], {}
    for href in sorted(internal_links):
        target, frag = urldefrag(href)
        if target not in texts:
            try:
                with urlopen(target, timeout=10) as r:
                    texts[target] = r.read().decode("utf-8", "replace") if r.status == 200 else None
            except OSError as exc:
                texts[target] = None
                problems.append(("link", href, f"broken: {exc}"))
                continue
        body = texts[target]
        if body is None:
            continue
        if frag and urlparse(target).path.endswith(".html") and not re.search(
                r'id=["\']' + re.escape(htmllib.escape(frag, quote=True)) + r'["\']', body):
            problems.append(("link", href, "missing anchor"))
    return problems


def format_problems(findings) -> list[str]:
    """One line per finding: ``page: kind: where: what``."""
    return [f"{doc}: {kind}: {where}: {what}" for doc, items in findings.items() for kind, where, what in items]


def format_markdown(findings, stats) -> str:
    """The findings as a Markdown report, one section per page with a count per kind of defect."""
    lines = [f"{stats['pages']} pages, {stats['equations']} equations, {stats['scrubbers']} scrubbers, "
             f"{stats.get('scrubbers2d', 0)} (γ, β) scrubbers, {stats['links']} internal links, heaviest page "
             f"{stats['heaviest_mb']:.2f} MB.", ""]
    if stats.get("page_mb"):
        lines += ["Page weights (HTML and images, MB): "
                  + ", ".join(f"{d} {mb:.2f}" for d, mb in stats["page_mb"].items()), ""]
    total = {}
    for items in findings.values():
        for kind, _, _ in items:
            total[kind] = total.get(kind, 0) + 1
    lines.append("Totals: " + (", ".join(f"{k}: {v}" for k, v in sorted(total.items())) or "no finding") + "")
    for doc, items in findings.items():
        if doc == "(links)" and not items:
            continue
        counts = {}
        for kind, _, _ in items:
            counts[kind] = counts.get(kind, 0) + 1
        lines += ["", f"## {doc}" + (" — clean" if not items else
                                     " — " + ", ".join(f"{v} {k}" for k, v in counts.items())), ""]
        lines += [f"- **{kind}** — {where} — {what}" for kind, where, what in items]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    """A fresh build of the current working tree: (html_dir, pages)."""
    src = tmp_path_factory.mktemp("book") / "src"
    shutil.copytree(REPO, src, ignore=_IGNORE_COPY)
    jb = _jupyter_book()
    assert jb, "jupyter-book is not installed"
    # Warnings are checked by CI's own `jupyter-book build -W -n`; here we need the pages themselves.
    proc = subprocess.run([jb, "build", "--keep-going", str(src)], capture_output=True, text=True, timeout=900)
    html_dir = src / "_build" / "html"
    assert proc.returncode == 0 and (html_dir / "index.html").exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return html_dir, toc_pages(src)


def test_every_page_reads_cleanly_in_chromium(built_book):
    try:
        import playwright  # noqa: F401
    except ImportError:  # a dependency of the project (requirements.txt), so this is a real failure
        pytest.fail("the `playwright` Python package is missing: pip install -r requirements.txt")
    html_dir, pages = built_book
    assert len(pages) >= 3 and "book/api" in pages, pages
    for old in SCREENSHOTS.glob("book__*.png"):  # only this run's page screenshots count below
        old.unlink()
    findings, stats = check_site(html_dir, pages, SCREENSHOTS)
    problems = format_problems(findings)
    (SCREENSHOTS / "findings.md").write_text(format_markdown(findings, stats))  # the same, per page
    print(f"browser test: {stats}; screenshots and findings.md in {SCREENSHOTS}")
    assert not problems, f"{len(problems)} problems on the rendered pages:\n" + "\n".join(problems)
    assert stats["equations"] > 0, "no equation found in the whole book: the MathJax check checked nothing"
    shots = sorted(p.name for p in SCREENSHOTS.glob("*.png"))
    for doc in pages:
        assert doc.replace("/", "__") + ".png" in shots, f"no 1400 px screenshot of {doc}"
    for doc in NARROW_PAGES:
        assert f"{doc.replace('/', '__')}@{NARROW}.png" in shots, f"no {NARROW} px screenshot of {doc}"


# --- the checker itself, on small hand-made pages with one defect each -------------------------------------

_DEFECTS = {
    "raw TeX": '<p>the value $f(x) = \\sum_j a_j$ here</p>',
    # in a docstring of the API page, plain-text subscripts are the source's own; `$` and \cmd are not
    "raw TeX docstring": '<div class="mdln-docstrings"><p>w_{k+1} with $\\lambda$</p></div>',
    "output overflow": '<div class="cell"><div class="cell_output"><div class="output"><pre style="overflow:auto">'
                       + "x" * 400 + "</pre></div></div></div>",
    "shrunk figure": '<img src="big.png" style="width:500px">',
    "widget box": '<div class="cell"><div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">'
                  '{"model_id": "x"}</script></div></div>',
    "stderr output": '<div class="cell"><div class="cell_output"><div class="output stderr"><pre>UserWarning: '
                     'scrubber text 7.7 px</pre></div></div></div>',
    "NBVAL text": '<div class="cell"><div class="cell_input"><pre># NBVAL_IGNORE_OUTPUT\nf()</pre></div></div>',
    "input overflow": '<div class="cell"><div class="cell_input"><pre style="overflow:auto">'
                      + "y" * 400 + "</pre></div></div>",
}
_CLEAN = ('<p>math <span class="math"><mjx-container>\\(\\gamma_{t}\\)</mjx-container></span>, code '
          '<code>$HOME \\frac</code></p><pre>a_{i} $x$</pre><img src="big.png" style="width:1000px">'
          '<img src="small.png" style="width:300px">'
          '<div class="cell"><div class="cell_output"><div class="output"><pre>short line</pre></div></div></div>'
          '<div class="mdln-docstrings"><p>MGD: w_{k+1} = w_k + β(w_k − w_{k−1}), e^{−t/λ}</p></div>')


def _png(path, width, height):
    import zlib
    import struct

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff" * (3 * width) for _ in range(height))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_the_scrubber2d_readout_check_catches_a_wrong_lambda():
    # the readout read off a (γ, β) scrubber at (γ, β) = (0.01, 0.5): λ = 0.04, ε = 0.02
    state = dict(gamma=0.01, beta=0.5, shown=dict(gamma=0.01, beta=0.5, lam=0.04, eps=0.02))
    assert _readout_problems(state, "s") == []
    wrong = dict(state, shown=dict(state["shown"], lam=0.01))     # γ shown for λ
    (kind, where, what), = _readout_problems(wrong, "s")
    assert kind == "scrubber2d" and "readout lam = 0.01" in what and "expected 0.04" in what
    rounded = dict(state, gamma=0.3, beta=0.97, shown=dict(gamma=0.3, beta=0.97, lam=333.3, eps=10))
    assert _readout_problems(rounded, "s") == []                  # 4 significant digits pass
    missing = dict(state, shown=dict(state["shown"], eps=float("nan")))
    assert [w for _, _, w in _readout_problems(missing, "s")][0].startswith("readout eps = nan")


def test_each_check_catches_its_defect_and_passes_a_clean_page(tmp_path):
    _png(tmp_path / "big.png", 1200, 100)
    _png(tmp_path / "small.png", 600, 100)
    page = ('<html><head><script>window.MathJax = {{startup: {{promise: Promise.resolve()}}}}</script></head>'
            '<body><article class="bd-article"><section id="s1">{}</section></article></body></html>')
    (tmp_path / "clean.html").write_text(page.format(_CLEAN))
    for kind, body in _DEFECTS.items():
        (tmp_path / f"{kind.replace(' ', '_')}.html").write_text(page.format(body))
    docs = ["clean"] + [k.replace(" ", "_") for k in _DEFECTS]
    findings, _ = check_site(tmp_path, docs, screenshots=None, check_links=False, widths=(WIDE,))
    assert findings["clean"] == [], findings["clean"]
    for kind in _DEFECTS:
        got = findings[kind.replace(" ", "_")]
        assert [k for k, _, _ in got] == [kind.replace(" docstring", "")], (kind, got)
        assert "#s1" in got[0][1], got  # the report says where
    assert "cell 1" in findings["NBVAL_text"][0][1]
    assert "\\sum" in " ".join(w for _, _, w in findings["raw_TeX"])
    assert "`$` `\\lambda`" in findings["raw_TeX_docstring"][0][2], findings["raw_TeX_docstring"]


def main(argv=None):
    """``python tests/test_browser.py [HTML_DIR] [--report FILE]``: check an existing build, no rebuild."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("html_dir", nargs="?", default=str(REPO / "_build" / "html"))
    ap.add_argument("--report", help="also write the findings as Markdown to this file")
    ap.add_argument("--screenshots", default=None, help="folder for the screenshots (default: "
                    "<html_dir>/../screenshots)")
    args = ap.parse_args(argv)
    if CHROMIUM is None:
        print("no Chromium binary found (set MDLN_CHROMIUM)", file=sys.stderr)
        return 2
    html_dir = Path(args.html_dir).resolve()
    shots = Path(args.screenshots) if args.screenshots else html_dir.parent / "screenshots"
    findings, stats = check_site(html_dir, toc_pages(REPO), shots)
    problems = format_problems(findings)
    print("\n".join(problems))
    print(f"{len(problems)} problems; {stats}; screenshots in {shots}")
    if args.report:
        Path(args.report).write_text(format_markdown(findings, stats))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
