"""Numbers as the chapters print them: the presentation layer of the book's prose and tables.

Every chapter glues preformatted strings into its Markdown (MyST `glue`) and prints small
tables; the formats live here, once, so that "10⁻⁸" means the same thing on every page:

* :func:`below` — a bound for a rounding-level residual, ``"< 1e-9"`` (printed tables);
* :func:`below_power` — the same bound in prose form, ``"10⁻⁹"``;
* :func:`power_of_ten` — ``10`` with a superscript exponent, ``"10⁻¹²"`` (the one superscript table);
* :func:`sci` — a number for the prose, ``0.28``, ``4.4·10⁻⁴``, ``10⁶`` (plain for 0.01 ≤ |x| < 100);
* :func:`sci_times` — always mantissa × power of ten, ``4.4×10⁻⁴`` (the conclusion's table);
* :func:`pct` — a fraction as a percentage, ``0.0085 → "0.85%"``;
* :func:`glue_all` — glue a whole dict of such strings (e.g. a result's ``glue_strings()``) at once;
* :func:`markdown_table`, :func:`html_table_text` (pure string builders) and :func:`html_table`.

This module may import the core and numpy; ``myst_nb`` and ``IPython`` are imported lazily inside the
two functions that need them. No core module imports it (``tests/test_layers.py``).
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping

import numpy as np

__all__ = ["below", "below_power", "power_of_ten", "superscript", "sci", "sci_times", "pct", "glue_all",
           "markdown_table", "html_table_text", "html_table"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _finite(x, name="x"):
    """x as a float, or a ValueError naming it when it is not a finite real number."""
    try:
        if isinstance(x, (str, bytes)):
            raise TypeError
        v = float(x)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {x!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite (not NaN or ±inf), got {v}")
    return v


def superscript(n):
    """The integer n in Unicode superscript digits: -12 → "⁻¹²"."""
    if isinstance(n, (bool, np.bool_)) or int(n) != n:
        raise ValueError(f"exponent must be an integer, got {n!r}")
    return str(int(n)).translate(_SUPERSCRIPT)


def power_of_ten(exponent):
    """Ten to an integer power in superscript form: -12 → "10⁻¹²"."""
    return "10" + superscript(exponent)


def _decade_above(v):
    """Exponent k of the smallest power of ten 10^k strictly above v > 0 (floor(log10 v) + 1)."""
    return int(np.floor(np.log10(v))) + 1


def _margin(margin):
    """margin as a float >= 1, or a ValueError naming it."""
    m = _finite(margin, "margin")
    if m < 1:
        raise ValueError(f"margin must be >= 1, got {m}")
    return m


def below(x, margin=1):
    """A bound for a rounding-level value: the smallest power of ten above margin·|x|, "< 1e-9" ("0" for 0).

    ``margin`` > 1 keeps the bound away from |x|, so that a value near a power of ten (9e-10) does not
    print "< 1e-9" on one BLAS kernel and "< 1e-8" on another.
    """
    v = abs(_finite(x)) * _margin(margin)
    return f"< 1e{_decade_above(v)}" if v > 0 else "0"


def below_power(x, margin=1):
    """The bound of :func:`below` in prose form: the smallest power of ten above margin·|x|, "10⁻⁹"."""
    v = abs(_finite(x)) * _margin(margin)
    return power_of_ten(_decade_above(v)) if v > 0 else "0"


def _digits(digits):
    """digits as a positive int, or a ValueError naming it."""
    if isinstance(digits, bool) or int(digits) != digits or digits < 1:
        raise ValueError(f"digits must be an integer >= 1, got {digits!r}")
    return int(digits)


def sci(x, digits=2):
    """x with `digits` significant digits for the prose: 0.28 and 12 plain, 4.4·10⁻⁴, 10⁶ (mantissa 1)."""
    v, digits = _finite(x), _digits(digits)
    m, e = f"{v:.{digits - 1}e}".split("e")
    if int(e) in (-2, -1, 0, 1):
        return f"{v:.{digits}g}"
    p = power_of_ten(int(e))
    if abs(float(m)) == 1:
        return ("-" if v < 0 else "") + p
    return f"{m}·{p}"


def sci_times(x, digits=2):
    """x as mantissa × power of ten with `digits` significant digits: 4.4×10⁻⁴, 9×10⁻¹⁰ ("0" for 0)."""
    v, digits = _finite(x), _digits(digits)
    if v == 0:
        return "0"
    m, e = f"{v:.{digits - 1}e}".split("e")
    return f"{m}×{power_of_ten(int(e))}"


def pct(x, digits=2):
    """A fraction as a percentage with `digits` significant digits: 0.0085 → "0.85%", 0.999 → "100%"."""
    v = 100 * _finite(x)
    text = f"{v:.{_digits(digits)}g}"
    return (f"{v:.0f}" if "e+" in text else text) + "%"


def glue_all(strings, prefix=""):
    """Glue every preformatted string of ``strings`` under ``prefix + key``, in order, without display."""
    if not isinstance(strings, Mapping):
        raise TypeError(f"strings must be a mapping of key -> text, got {type(strings).__name__}")
    bad = {k: type(v).__name__ for k, v in strings.items()
           if not isinstance(k, str) or not isinstance(v, str)}
    if bad:
        raise TypeError(f"strings must map str keys to preformatted str values; not so for {bad}")
    from myst_nb import glue
    for key, text in strings.items():
        glue(prefix + key, text, display=False)


def _table_cells(rows, header):
    """Header and rows as lists of strings, or a ValueError when a row's length is not the header's."""
    header = [str(h) for h in header]
    if not header:
        raise ValueError("header must name at least one column")
    rows = [[str(c) for c in row] for row in rows]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"row {i} has {len(row)} cells, the header {len(header)}")
    return header, rows


def markdown_table(rows, header):
    """A Markdown (GFM) table: header line, "|---|" rule, one line per row; "|" in a cell is escaped."""
    header, rows = _table_cells(rows, header)

    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
    return "\n".join([line(header), "|" + "---|" * len(header), *map(line, rows)])


def _paragraphs(lines, name):
    """Lines of text as escaped HTML paragraphs, or a TypeError naming the argument."""
    if isinstance(lines, str) or not all(isinstance(t, str) for t in lines):
        raise TypeError(f"{name} must be a sequence of str lines, got {lines!r}")
    return "".join(f"<p>{html.escape(t)}</p>\n" for t in lines)


def html_table_text(rows, header, before=(), after=()):
    """An HTML table as a string (cells escaped): <thead> with the header, one <tr> per row.

    ``before`` and ``after`` are lines of text shown as paragraphs above and below the table, so that a
    cell's summary lines and its table make one output.
    """
    header, rows = _table_cells(rows, header)

    def line(cells, tag):
        return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"
    body = "\n".join(line(r, "td") for r in rows)
    table = f"<table>\n<thead>{line(header, 'th')}</thead>\n<tbody>\n{body}\n</tbody>\n</table>"
    return _paragraphs(before, "before") + table + ("\n" + _paragraphs(after, "after") if after else "")


def html_table(rows, header, before=(), after=()):
    """The table of :func:`html_table_text` as an IPython ``HTML`` object (displays in a notebook)."""
    from IPython.display import HTML
    return HTML(html_table_text(rows, header, before=before, after=after))
