"""Author–year labels in the bibliography, matching the author–year citations in the text (issue 10).

sphinxcontrib-bibtex cites author–year in the text (``bibtex_reference_style: author_year``), but its
bibliography styles label entries alphabetically ([SBCandes14]), so a reader sees "(Su et al., 2014)" in a
chapter and "[SBCandes14]" in the list. This registers a pybtex label style that writes the same
"Su et al., 2014" label (first author's last name, "and" between two authors, as in the text, "et al." for more; a/b suffixes
when two entries would share a label) and a formatting style ``mdln_authoryear`` (pybtex's ``unsrt``
entries sorted by author, year and title) that uses it; ``_config.yml`` selects it with
``bibtex_default_style: mdln_authoryear``.
"""
from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle

STYLE = "mdln_authoryear"


def _last_name(person) -> str:
    """A person's last name as plain text, LaTeX accents decoded (Cand{\\`e}s -> Candès)."""
    raw = " ".join(person.prelast_names + person.last_names)
    return Text.from_latex(raw).render_as("text")


def author_year_label(entry) -> str:
    """'Alvarez, 2000', 'Kovachki & Stuart, 2021' or 'Su et al., 2014' for one pybtex entry."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    year = entry.fields.get("year", "n.d.")
    if not people:
        return f"{Text.from_latex(entry.fields.get('title', entry.key)).render_as('text')}, {year}"
    names = [_last_name(p) for p in people]
    if len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {year}"


class AuthorYearLabelStyle(BaseLabelStyle):
    """Labels 'Su et al., 2014', with 'a', 'b', ... after the year when two entries would share one."""

    def format_labels(self, sorted_entries):
        labels = [author_year_label(e) for e in sorted_entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label]]
                seen[label] += 1
            else:
                yield label


class AuthorYearStyle(UnsrtStyle):
    """pybtex's unsrt entries, labelled and sorted author–year."""

    default_label_style = STYLE
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", STYLE, AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", STYLE, AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
