"""The claims of :mod:`mdln.claims` on a page: an HTML table and one glued verdict sentence per claim.

Presentation only: every word of a verdict comes from the computed :class:`mdln.claims.Verdict` of a
:class:`mdln.claims.ClaimResult` (or of its ``to_dict()`` form, e.g. read from ``book/claims_paper.json``).
"""
from __future__ import annotations

from ..claims import ClaimResult, format_value
from ..text import glue_all, html_table, html_table_text

__all__ = ["claims_table", "claims_table_text", "claims_rows", "glue_verdicts", "verdict_text",
           "measured_text", "HEADER"]

HEADER = ["claim", "paper", "kind", "measured (worst · median, n)", "threshold", "verdict"]


def _check_results(results, name):
    """``results`` as a list of ClaimResults or their dict forms; TypeError naming ``name`` otherwise."""
    if isinstance(results, (str, bytes, dict)) or not hasattr(results, "__iter__"):
        raise TypeError(f"{name} must be a list of ClaimResult (or their to_dict() forms), "
                        f"got {type(results).__name__}")
    out = list(results)
    bad = [type(r).__name__ for r in out if not isinstance(r, (ClaimResult, dict))]
    if bad:
        raise TypeError(f"{name} must hold ClaimResult objects or dicts, got {', '.join(sorted(set(bad)))}")
    return out


def _get(r, key):
    """Field ``key`` of a ClaimResult or of its dict form."""
    if isinstance(r, ClaimResult):
        v = getattr(r, key)
        return v.value if hasattr(v, "value") and key in ("kind", "verdict") else v
    return r[key]


def _measured(r, where=False):
    m = _get(r, "measured_where" if where else "measured")
    if m is None:
        return None
    return m.to_dict() if hasattr(m, "to_dict") else m


def measured_text(r, where=False) -> str:
    """'worst · median (n = N)' at 2 digits, rounding-level values as bounds; '–' if nothing measured."""
    m = _measured(r, where)
    if m is None or int(m["n"]) == 0:
        return "–"
    t = float(_get(r, "threshold"))
    if int(m["n"]) == 1:
        return f"{format_value(float(m['worst']), t)} (n = 1)"
    return f"{format_value(float(m['worst']), t)} · {format_value(float(m['median']), t)} (n = {int(m['n'])})"


def threshold_text(r) -> str:
    """'< 0.01' or '> 0.5' (the median when the claim is judged on it)."""
    rel = "<" if _get(r, "direction") == "below" else ">"
    stat = "median " if _get(r, "judge") == "median" else ""
    return f"{stat}{rel} {float(_get(r, 'threshold')):g}"


def verdict_text(r) -> str:
    """The verdict's own word(s), with the condition for HOLDS_WHERE and its measurement there."""
    word = _get(r, "verdict")
    if word == "holds where":
        return f"{word} {_get(r, 'condition').removeprefix('where ')} ({measured_text(r, True)})"
    if _measured(r)["n"] == 0:
        return f"{word} (nothing measured)"
    return word


def claims_rows(results, paper=None) -> list:
    """Table rows of ``results``; with ``paper`` (ClaimResults or dicts), a paper-fidelity column."""
    by_name = {_get(p, "name"): p for p in (paper or [])}
    rows = []
    for r in results:
        row = [_get(r, "name").replace("_", " "), _get(r, "paper_ref"), _get(r, "kind"), measured_text(r),
               threshold_text(r), verdict_text(r)]
        if paper is not None:
            p = by_name.get(_get(r, "name"))
            row.append("not computed" if p is None else f"{verdict_text(p)}: {measured_text(p)}")
        rows.append(row)
    return rows


def _header(results, paper):
    head = list(HEADER)
    fids = {_get(r, "fidelity") for r in results}
    if len(fids) == 1:
        head[-1] = f"verdict ({fids.pop()})"
    if paper is not None:
        head.append("paper fidelity")
    return head


def claims_table_text(results, paper=None) -> str:
    """The claims table as an HTML string (:func:`mdln.text.html_table_text`)."""
    return html_table_text(claims_rows(results, paper), _header(results, paper))


def claims_table(results, paper=None):
    """The claims table as an IPython HTML object: claim, paper reference, kind, measured, threshold,
    verdict (and condition); with ``paper``, one more column with the paper-fidelity verdict."""
    results = _check_results(results, "results")
    paper = None if paper is None else _check_results(paper, "paper")
    return html_table(claims_rows(results, paper), _header(results, paper))


def glue_verdicts(results, prefix="verdict_") -> dict:
    """Glue each result's ``sentence()`` (its bare verdict under ``<prefix><name>_word``); returns them."""
    results = _check_results(results, "results")
    strings = {}
    for r in results:
        strings[_get(r, "name")] = r.sentence() if isinstance(r, ClaimResult) else r["sentence"]
        strings[_get(r, "name") + "_word"] = _get(r, "verdict")
    glue_all(strings, prefix=prefix)
    return strings
