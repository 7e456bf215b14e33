"""Two fixes to the HTML that Jupyter Book 1.0.4 produces, so readers' browsers log no errors.

1. Sphinx 7.4 emits twice every inline script registered after the builder started (``None`` and ``''``
   file names compare unequal), so sphinx-thebe's ``const THEBE_JS_URL = ...`` is declared twice and the
   browser reports "Identifier 'THEBE_JS_URL' has already been declared". Drop the repeated scripts.
2. sphinx-book-theme gives pydata-sphinx-theme's template no ``default_mode``, so the colour mode is ""
   on a reader's first visit and the browser logs "Got invalid theme mode". Default it to "auto" (follow
   the system setting), the mode pydata-sphinx-theme itself falls back to.

tests/test_browser.py checks both in a real browser.
"""


def _default_mode(app, pagename, templatename, context, doctree):
    if not context.get("default_mode"):
        context["default_mode"] = "auto"


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for js in scripts:
        attrs = getattr(js, "attributes", {}) or {}
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _default_mode)
    app.connect("html-page-context", _dedupe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
