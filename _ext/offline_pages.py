"""Pages that make no request off the book and read on a phone.

1. matplotlib's ``to_jshtml`` scrubbers stored in the notebooks link font-awesome 4.4.0 from a CDN for
   their buttons: one request per scrubber leaves the page (and fails offline). Each page's body is
   passed through ``mdln.widgets.offline_jshtml``, the function ``mdln.scrubber`` applies to new outputs,
   so stored outputs get the same plain-text buttons.
2. ``static/mdln_pages.css``: scrubber frames and sliders never wider than the column (a phone shrinks
   them with the text column instead of cutting them), and the prev/next footer keeps its titles on
   whole lines at 400 px.

tests/test_browser.py checks both in a real browser (no request leaves 127.0.0.1; 400 px screenshots).
"""
from pathlib import Path


def _offline_scrubbers(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body and "font-awesome" in body:
        from mdln.widgets import offline_jshtml
        context["body"] = offline_jshtml(body)


def _static_path(app):
    app.config.html_static_path.append(str(Path(__file__).with_name("static")))


def setup(app):
    app.connect("builder-inited", _static_path)
    app.add_css_file("mdln_pages.css")
    app.connect("html-page-context", _offline_scrubbers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
