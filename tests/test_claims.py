"""mdln.claims: every claim evaluates with a computed verdict, a threshold flips it, the table says so,
and the committed paper-fidelity numbers are not stale (their code keys match the code)."""
import dataclasses
import json
import math
import re
from pathlib import Path

import pytest

from mdln import claims as C
from mdln.cache import code_key

PAPER_JSON = Path(__file__).resolve().parent.parent / "book" / "claims_paper.json"
REF = re.compile(r"^(Proposition|Lemma|Theorem|Corollary) \d+$|^Figure \d+$|^Appendix [A-F](\.\d+)*$"
                 r"|^Section \d(\.\d)*( \(.+\))?$")


@pytest.fixture(scope="module")
def results():
    """Every claim at test fidelity (the experiments' test presets; shared with their own tests' cache)."""
    return C.evaluate("test")


def test_every_claim_evaluates_with_a_computed_verdict(results):
    assert [r.name for r in results] == C.claim_names()
    for claim, r in zip(C.CLAIMS, results):
        assert isinstance(r.verdict, C.Verdict) and r.fidelity == "test"
        assert r.verdict is C.verdict_of(claim, r.measured, r.measured_where)
        if r.measured.n:
            assert math.isfinite(r.measured.worst) and r.measured.spread >= 0
            stat = r.statistic()
            assert (r.verdict is C.Verdict.HOLDS) == claim.passes(stat)
            worst_side = max if claim.direction == "below" else min
            assert r.measured.worst == worst_side(r.measured.worst, r.measured.median)
        else:
            assert r.verdict is C.Verdict.FAILS
        d = r.to_dict()
        assert json.loads(json.dumps(d))["verdict"] == r.verdict.value
        assert r.verdict.value in r.sentence() and r.paper_ref in r.sentence()


def test_a_threshold_flips_its_verdict(results, monkeypatch):
    """Move one claim's threshold across its measured value: the verdict follows the number."""
    r = next(r for r in results if r.name == "figure1_paths")
    claim = C.get_claim("figure1_paths")
    assert r.verdict is C.Verdict.HOLDS and r.measured.worst < claim.threshold
    strict = dataclasses.replace(claim, threshold=r.measured.worst / 2)
    monkeypatch.setattr(C, "CLAIMS", tuple(strict if c.name == claim.name else c for c in C.CLAIMS))
    flipped = C.evaluate("test", ["figure1_paths"])[0]
    assert flipped.verdict is C.Verdict.FAILS and flipped.measured == r.measured
    assert "fails" in flipped.sentence()


def test_holds_where_needs_the_condition_to_pass():
    """HOLDS_WHERE only when the values meeting the condition pass and the whole set does not."""
    claim = C.Claim("made_up", "Theorem 9", C.Kind.EMPIRICAL, "x", lambda f: None, 0.01, "below", "r", "d",
                    condition="where calm")
    bad, calm = C.Measured(0.1, 0.01, 0.1, 10), C.Measured(0.004, 0.001, 0.004, 4)
    assert C.verdict_of(claim, bad, calm) is C.Verdict.HOLDS_WHERE
    assert C.verdict_of(claim, bad, C.Measured(0.02, 0.01, 0.02, 4)) is C.Verdict.FAILS
    assert C.verdict_of(claim, calm, calm) is C.Verdict.HOLDS
    assert C.verdict_of(dataclasses.replace(claim, condition=""), bad, calm) is C.Verdict.FAILS
    assert C.verdict_of(claim, C.Measured(math.nan, math.nan, math.nan, 0), None) is C.Verdict.FAILS


def test_the_table_renders_a_failing_claim():
    from mdln.figures.claims import claims_rows, claims_table_text
    fake = C.ClaimResult(
        name="made_up_claim", paper_ref="Theorem 9", kind=C.Kind.THEOREM, statement="s",
        measured=C.Measured(0.25, 0.02, 0.24, 12), measured_where=None, threshold=0.01, direction="below",
        judge="worst", worst_params={"lam": 0.1}, verdict=C.Verdict.FAILS, condition="", fidelity="book",
        detects="d", reason="r")
    row = claims_rows([fake])[0]
    assert row[0] == "made up claim" and row[1] == "Theorem 9" and row[-1] == "fails"
    assert row[3] == "0.25 · 0.02 (n = 12)" and row[4] == "< 0.01"
    html = claims_table_text([fake], paper=[fake.to_dict()])
    assert "<td>fails</td>" in html and "<td>fails: 0.25 · 0.02 (n = 12)</td>" in html
    assert "Theorem 9" in html and "holds" not in html


def test_kinds_refs_and_reasons_are_valid():
    names = C.claim_names()
    assert len(names) == len(set(names))
    for c in C.CLAIMS:
        assert isinstance(c.kind, C.Kind) and REF.match(c.paper_ref), c.paper_ref
        assert c.direction in ("below", "above") and math.isfinite(c.threshold)
        assert c.statement and c.reason and c.detects and callable(c.measure)
        for m in c.experiments:
            assert code_key(m), m
    kinds = {c.kind for c in C.CLAIMS}
    assert kinds == set(C.Kind)
    identities = {c.name for c in C.CLAIMS if c.kind is C.Kind.IDENTITY}
    assert {"theorem1_endpoint_form", "theorem2_delta_telescoped", "theorem2_full_telescoped"} <= identities
    honest = ("not the theorem", "not any dynamics", "bookkeeping", "not a floor")
    for name in identities:   # an identity says what it checks instead of the theorem
        assert any(h in C.get_claim(name).detects for h in honest), name


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="fidelity"):
        C.evaluate("huge")
    with pytest.raises(ValueError, match="unknown claim 'nope'"):
        C.evaluate("test", ["nope"])
    with pytest.raises(TypeError, match="names"):
        C.evaluate("test", "figure1_paths")
    with pytest.raises(ValueError, match="direction"):
        C.Claim("x", "Theorem 1", C.Kind.THEOREM, "s", lambda f: None, 1.0, "sideways", "r", "d")


def test_committed_paper_claims_are_not_stale():
    """book/claims_paper.json: every code key it was computed with still matches the code."""
    doc = json.loads(PAPER_JSON.read_text(encoding="utf-8"))
    assert doc["fidelity"] == "paper" and doc["code_keys"]
    stale = {m: k for m, k in doc["code_keys"].items() if code_key(m) != k}
    assert not stale, (f"book/claims_paper.json is stale for {sorted(stale)}: regenerate it with "
                       "MDLN_CACHE_DIR=<paper cache> python -m mdln claims --fidelity paper "
                       "--out book/claims_paper.json")
    names = {c["name"] for c in doc["claims"]}
    assert names <= set(C.claim_names())
    for c in doc["claims"]:
        assert c["verdict"] in {v.value for v in C.Verdict} and c["fidelity"] == "paper"
