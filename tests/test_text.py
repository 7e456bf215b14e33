"""mdln.text: the number formats of the book's prose, checked against independent parsings and counts."""
import html.parser
import math
import unicodedata
from decimal import Decimal

import numpy as np
import pytest

from mdln import text

RNG = np.random.default_rng(20240501)
SAMPLES = [float(m * 10.0 ** e) for m, e in zip(RNG.uniform(1, 10, 300), RNG.integers(-300, 300, 300))]
POWERS = [float(f"1e{k}") for k in range(-300, 301)]


def _from_superscript(s):
    """Integer from Unicode superscript digits, by their Unicode properties (not via mdln's table)."""
    sign = -1 if s.startswith("\u207b") else 1
    digits = s[1:] if sign < 0 else s
    assert digits and all(unicodedata.name(c).startswith("SUPERSCRIPT") for c in digits)
    return sign * int("".join(str(unicodedata.digit(c)) for c in digits))


def _parse_power(s):
    """Exponent k of a string "10ᵏ"."""
    assert s.startswith("10")
    return _from_superscript(s[2:])


def _parse_number(s):
    """The value of "m·10ᵏ", "m×10ᵏ", "10ᵏ", "-10ᵏ" or a plain decimal."""
    for sep in ("·", "×"):
        if sep in s:
            m, p = s.split(sep)
            return float(m) * 10.0 ** _parse_power(p)
    if s.lstrip("-").startswith("10") and any(unicodedata.name(c).startswith("SUPERSCRIPT") for c in s):
        return (-1 if s.startswith("-") else 1) * 10.0 ** _parse_power(s.lstrip("-"))
    return float(s)


def _decade_above(x):
    """Smallest k with 10^k > |x|, x taken as the decimal it prints as (exact Decimal arithmetic)."""
    d = abs(Decimal(repr(float(x))))
    k = d.adjusted()                     # 10^k <= d < 10^(k+1)
    return k + 1


# ------------------------------------------------------------------ superscript and power_of_ten
@pytest.mark.parametrize("n", [-307, -12, -1, 0, 1, 9, 10, 308])
def test_superscript_round_trips(n):
    assert _from_superscript(text.superscript(n)) == n
    assert text.power_of_ten(n) == "10" + text.superscript(n)


def test_power_of_ten_examples():
    assert text.power_of_ten(-12) == "10⁻¹²"
    assert text.power_of_ten(6) == "10⁶"
    assert text.power_of_ten(0) == "10⁰"


@pytest.mark.parametrize("bad", [0.5, float("nan"), True])
def test_power_of_ten_rejects_non_integers(bad):
    with pytest.raises((ValueError, TypeError), match="integer|NaN|nan"):
        text.power_of_ten(bad)


# ------------------------------------------------------------------ below / below_power
@pytest.mark.parametrize("x, expected", [(3.2e-10, "< 1e-9"), (9.99e-13, "< 1e-12"), (0.5, "< 1e0"),
                                         (7.0, "< 1e1"), (1e-9, "< 1e-8"), (1.0, "< 1e1"),
                                         (-3.2e-10, "< 1e-9"), (0.0, "0"), (-0.0, "0")])
def test_below_examples(x, expected):
    assert text.below(x) == expected


@pytest.mark.parametrize("x", SAMPLES + POWERS)
def test_below_is_the_smallest_power_of_ten_above(x):
    k = _decade_above(x)
    assert text.below(x) == f"< 1e{k}"
    assert text.below(-x) == f"< 1e{k}"
    assert _parse_power(text.below_power(x)) == k
    # a true bound, and the smallest one: 10^(k-1) <= |x| < 10^k
    assert Decimal(10) ** (k - 1) <= Decimal(repr(x)) < Decimal(10) ** k


def test_below_power_examples():
    assert text.below_power(3.2e-10) == "10⁻⁹"
    assert text.below_power(1.3e-4) == "10⁻³"
    assert text.below_power(1e-8) == "10⁻⁷"
    assert text.below_power(0) == "0"


@pytest.mark.parametrize("x", SAMPLES + POWERS)
@pytest.mark.parametrize("margin", [1, 2, 3.5, 10])
def test_below_with_a_margin_bounds_margin_times_the_value(x, margin):
    k = _parse_power(text.below_power(x, margin=margin))
    assert text.below(x, margin=margin) == f"< 1e{k}"
    # the bound stays at least `margin` above |x|, and is the smallest power of ten that does
    assert Decimal(10) ** (k - 1) <= Decimal(repr(x)) * Decimal(repr(float(margin))) < Decimal(10) ** k


def test_below_with_a_margin_examples():
    assert text.below(9e-10) == "< 1e-9"
    assert text.below(9e-10, margin=2) == "< 1e-8"
    assert text.below(4e-10, margin=2) == "< 1e-9"
    assert text.below_power(6e-10, margin=2) == "10⁻⁸"


@pytest.mark.parametrize("bad", [0.5, 0, -2, float("nan")])
def test_below_refuses_a_margin_under_one(bad):
    with pytest.raises(ValueError, match="margin"):
        text.below(1e-9, margin=bad)


@pytest.mark.parametrize("f", [text.below, text.below_power, text.sci, text.sci_times, text.pct])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.nan])
def test_non_finite_numbers_are_refused(f, bad):
    with pytest.raises(ValueError, match="finite"):
        f(bad)


@pytest.mark.parametrize("f", [text.below, text.sci, text.pct])
def test_non_numbers_are_refused(f):
    with pytest.raises(TypeError, match="real number"):
        f("0.1")


# ------------------------------------------------------------------ sci / sci_times
@pytest.mark.parametrize("x, digits, expected", [(0.28, 2, "0.28"), (4.4e-4, 2, "4.4·10⁻⁴"),
                                                 (1e6, 1, "10⁶"), (1e6, 2, "10⁶"), (3.8e-3, 2, "3.8·10⁻³"),
                                                 (4e3, 1, "4·10³"), (12.0, 2, "12"), (0.01, 2, "0.01"),
                                                 (99.6, 2, "10²"), (0.0, 2, "0"), (-4.4e-4, 2, "-4.4·10⁻⁴"),
                                                 (-1e6, 1, "-10⁶"), (1.25e-16, 1, "10⁻¹⁶")])
def test_sci_examples(x, digits, expected):
    assert text.sci(x, digits) == expected


@pytest.mark.parametrize("digits", [1, 2, 3])
@pytest.mark.parametrize("x", SAMPLES[:100] + POWERS[::50] + [0.0123, 45.6, -0.5])
def test_sci_rounds_to_the_requested_digits(x, digits):
    s = text.sci(x, digits)
    assert math.isclose(_parse_number(s), x, rel_tol=0.5 * 10.0 ** (1 - digits) * 1.0001)
    rounded = abs(float(f"{x:.{digits - 1}e}"))
    plain = rounded == 0 or 0.01 <= rounded < 100          # written out in full, no power of ten
    assert any(unicodedata.name(c).startswith("SUPERSCRIPT") for c in s) != plain


@pytest.mark.parametrize("x, digits, expected", [(1.2e15, 2, "1.2×10¹⁵"), (9e-10, 1, "9×10⁻¹⁰"),
                                                 (4.44e-4, 2, "4.4×10⁻⁴"), (0.28, 2, "2.8×10⁻¹"),
                                                 (-3e5, 1, "-3×10⁵"), (0.0, 2, "0")])
def test_sci_times_examples(x, digits, expected):
    assert text.sci_times(x, digits) == expected


@pytest.mark.parametrize("x", SAMPLES[:100])
def test_sci_times_round_trips(x):
    assert math.isclose(_parse_number(text.sci_times(x, 3)), x, rel_tol=5e-3 * 1.0001)


@pytest.mark.parametrize("digits", [0, -1, 1.5])
def test_digits_must_be_a_positive_integer(digits):
    with pytest.raises(ValueError, match="digits"):
        text.sci(0.5, digits)


# ------------------------------------------------------------------ pct
@pytest.mark.parametrize("x, expected", [(0.0085, "0.85%"), (0.0076, "0.76%"), (0.123, "12%"),
                                         (0.022, "2.2%"),
                                         (0.0, "0%"), (-0.5, "-50%"), (0.999, "100%"), (2.5, "250%")])
def test_pct_examples(x, expected):
    assert text.pct(x) == expected


@pytest.mark.parametrize("x", [float(v) for v in RNG.uniform(1e-4, 0.99, 50)])
def test_pct_is_the_fraction_times_100(x):
    s = text.pct(x, 3)
    assert s.endswith("%")
    assert math.isclose(float(s[:-1]) / 100, x, rel_tol=5e-3)


# ------------------------------------------------------------------ glue_all
def test_glue_all_glues_every_string_in_order_without_display(monkeypatch):
    import myst_nb
    calls = []
    monkeypatch.setattr(myst_nb, "glue",
                        lambda name, value, display=True: calls.append((name, value, display)))
    strings = {"b": "10⁻⁹", "a": "0.28", "c": "–"}
    assert text.glue_all(strings, prefix="ch4_") is None
    assert calls == [("ch4_b", "10⁻⁹", False), ("ch4_a", "0.28", False), ("ch4_c", "–", False)]
    calls.clear()
    text.glue_all({})
    assert calls == []


def test_glue_all_stores_the_text_plain_repr_the_book_reads(capsys):
    # the real glue: one display_data per key, mime "application/papermill.record/text/plain"
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    seen = []
    shell.display_pub.publish = lambda data, metadata=None, **kw: seen.append((data, metadata))
    try:
        text.glue_all({"x": "4.4·10⁻⁴", "y": "12%"}, prefix="t_")
    finally:
        InteractiveShell.clear_instance()
    assert [m["scrapbook"]["name"] for _, m in seen] == ["t_x", "t_y"]
    assert [d["application/papermill.record/text/plain"] for d, _ in seen] == [repr("4.4·10⁻⁴"), repr("12%")]


@pytest.mark.parametrize("bad", [[("a", "1")], {"a": 1.0}, {1: "x"}])
def test_glue_all_wants_a_mapping_of_strings(bad):
    with pytest.raises(TypeError, match="strings"):
        text.glue_all(bad)


# ------------------------------------------------------------------ tables
def test_markdown_table_layout():
    t = text.markdown_table([["max θ̃0/Δ∞", "4.6", 29], ["a|b", "", 0]], ["measure", "threshold", "runs"])
    assert t == ("| measure | threshold | runs |\n|---|---|---|\n| max θ̃0/Δ∞ | 4.6 | 29 |\n"
                 "| a\\|b |  | 0 |")
    lines = t.split("\n")
    # every line has one more unescaped "|" than there are columns
    assert all(line.replace("\\|", "").count("|") == 4 for line in lines)


class _Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.tags.append(tag)
            self.rows[-1].append("")

    def handle_data(self, data):
        if self.rows and self.tags:
            self.rows[-1][-1] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tags.pop()


def test_html_table_text_round_trips_through_an_html_parser():
    rows = [[1, "<b>&"], ["x > y", 2.5]]
    s = text.html_table_text(rows, ["key", "value"])
    p = _Cells()
    p.feed(s)
    assert p.rows == [["key", "value"], ["1", "<b>&"], ["x > y", "2.5"]]
    assert "<b>" not in s and s.count("<th>") == 2 and s.count("<td>") == 4


def test_html_table_is_displayable_html():
    from IPython.display import HTML
    obj = text.html_table([["a", 1]], ["k", "v"])
    assert isinstance(obj, HTML)
    assert obj._repr_html_() == text.html_table_text([["a", 1]], ["k", "v"])


def test_html_table_text_puts_its_lines_around_the_table_as_paragraphs():
    s = text.html_table_text([["a", 1]], ["k", "v"], before=["n = 3 < 4"], after=["end & done"])
    assert s.startswith("<p>n = 3 &lt; 4</p>\n<table>")
    assert s.endswith("</table>\n<p>end &amp; done</p>\n")
    assert text.html_table_text([["a", 1]], ["k", "v"]).startswith("<table>")


def test_html_table_text_refuses_a_bare_string_of_lines():
    with pytest.raises(TypeError, match="before"):
        text.html_table_text([["a", 1]], ["k", "v"], before="one line")


@pytest.mark.parametrize("f", [text.markdown_table, text.html_table_text])
def test_tables_refuse_ragged_rows(f):
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        f([["a", "b"], ["c"]], ["x", "y"])
    with pytest.raises(ValueError, match="header"):
        f([], [])
