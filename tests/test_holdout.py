"""The simplification rule judged out of sample: the fit sees the training family only, the counts are
recounts of the arrays, a hand-made pool gives the known threshold and rate, bad inputs raise."""
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest

from mdln.cache import code_key
from mdln.experiments import holdout as H
from mdln.experiments.open_questions import KINDS, Problem
from mdln.experiments.sec3 import SimplificationConfig, run_simplification
from mdln.experiments.theorems import check_sweep, simplification_rule
from mdln.smgd import mgd_sweep
from tests._raises import assert_raises_case

CFG = H.HoldoutConfig.preset("test")


@pytest.fixture(scope="module")
def result():
    return H.run_holdout(CFG)


# ------------------------------------------------------------------ a pool where the answer is known
def test_fit_threshold_on_a_hand_made_pool():
    measure = np.array([0.001, 0.002, 0.003, 0.004, 0.005, np.nan])
    distance = np.array([0.001, 0.002, 0.02, 0.003, 0.03, 0.5])
    assert H.fit_threshold(measure, distance, 0.01) == 0.003          # first run at or beyond 1%
    assert H.fit_threshold(measure, np.where(distance == 0.02, 0.01, distance), 0.01) == 0.003  # ≥ level
    assert H.fit_threshold(measure[:2], distance[:2], 0.01) == math.inf   # no training run beyond 1%
    assert H.fit_threshold(measure, distance, 0.025) == 0.005


def test_assurance_on_a_hand_made_pool():
    shift = np.array([0.0005, 0.001, 0.0029, 0.0031, 0.01])
    dist = np.array([0.001, 0.012, 0.002, 0.001, 0.5])
    a = H.assurance(shift < 0.003, dist, 0.01)
    assert (a["n_runs"], a["n_says"], a["n_wrong"], a["n_within"], a["n_right"]) == (5, 3, 1, 3, 2)
    assert a["rate"] == pytest.approx(1 / 3) and a["coverage"] == pytest.approx(3 / 5)
    assert a["true_coverage"] == pytest.approx(2 / 3) and a["worst"] == 1
    none = H.assurance(np.zeros(5, bool), dist, 0.01)
    assert none["n_says"] == 0 and math.isnan(none["rate"]) and none["worst"] == -1


def _hand_made(threshold=0.003):
    n = 5
    return H.AlgorithmHoldout(
        algorithm="mgf", level=0.01, max_rate=0.05, threshold=threshold, n_train_sets=1,
        train_lam=np.ones(2), train_converged=np.ones(2, bool), train_sign_change=np.zeros(2, bool),
        train_distance=np.array([0.001, 0.02]), train_shift=np.array([0.001, 0.003]), n_heldout_sets=2,
        problem=np.array([0, 0, 1, 1, 1]), lam=np.full(n, 0.1), gamma=np.full(n, np.nan),
        beta=np.full(n, np.nan), converged=np.array([True, True, True, True, False]),
        sign_change=np.array([False, True, True, False, True]),
        distance=np.array([0.001, 0.012, 0.002, 0.02, np.nan]), distance_full=np.full(n, 1e-9),
        shift=np.array([0.0005, 0.001, 0.0029, 0.0031, 0.002]), dropped=np.ones(n))


def test_clauses_of_a_hand_made_result():
    a = _hand_made()
    assert a.n_heldout_runs == 4                                     # the unconverged run is left out
    assert (a.n_says_within, a.n_wrong, a.rate) == (3, 1, pytest.approx(1 / 3))
    assert a.worst_distance == 0.012 and not a.reliable
    first = a.clause("first")                                         # runs 0 and 3 never cross
    assert (first["n_says"], first["n_wrong"], first["worst"]) == (2, 1, 3)
    assert a.first_clause_rate == 0.5 and not a.first_clause_reliable
    assert a.clause("either")["n_says"] == 4
    tight = a.at_threshold(0.0008)                                    # only run 0 below: right
    assert (tight.n_says_within, tight.n_wrong, tight.reliable) == (1, 0, True)
    assert a.threshold == 0.003                                       # the original is unchanged


# ------------------------------------------------------------------ the fit never sees held-out data
def test_heldout_problems_are_outside_the_training_family():
    probs = H.heldout_problems(12, seed=0, seed_base=CFG.heldout_seed_base)
    assert probs == H.heldout_problems(12, seed=0, seed_base=CFG.heldout_seed_base)   # seeded
    assert {p.kind for p in probs} == set(KINDS)
    assert all(p.support == "random" and p.d >= p.n + 10 and p.s <= p.n // 2 for p in probs)
    seeds = {p.seed for p in probs}
    assert len(seeds) == 12 and min(seeds) > max(CFG.train_seeds + CFG.mgd_train_seeds)


def test_perturbing_a_heldout_set_leaves_every_threshold_unchanged(result):
    probs = result.problems
    moved = (dataclasses.replace(probs[1], mu=probs[1].mu + 0.5, seed=probs[1].seed + 7),)
    other = H.run_holdout(CFG, problems=moved)
    for k in H.ALGORITHMS:
        a, b = result.algorithm(k), other.algorithm(k)
        assert a.threshold == b.threshold
        for f in ("train_distance", "train_shift", "train_converged"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert other.mgf.n_heldout_sets == 1
    k = len(CFG.mgf_lams)
    assert not np.array_equal(other.mgf.distance, result.mgf.distance[k:2 * k])   # the held-out runs moved


def test_thresholds_are_the_books_rule_on_the_training_runs(result):
    simp = run_simplification(SimplificationConfig(lams=CFG.mgf_lams, seeds=CFG.train_seeds, random_seeds=(),
                                                   n=CFG.train_n, d=CFG.train_d, s=CFG.train_s))
    np.testing.assert_allclose(result.mgf.train_distance, simp.distance, rtol=1e-12)
    np.testing.assert_allclose(result.mgf.train_shift, simp.linearised, rtol=1e-12)
    assert result.mgf.threshold == simp.rule("linearised")["threshold"]
    dss = CFG.train_data(CFG.mgd_train_seeds)
    X, y = np.stack([q.X for q in dss]), np.stack([q.y for q in dss])
    gammas, betas, keep = CFG.mgd_pairs()
    assert keep.all()                         # the test grid lies inside the λ range: same runs
    for name, batch in (("mgd", None), ("smgd", CFG.batch_size)):
        sw = mgd_sweep(X, y, gammas, betas, seeds=CFG.batch_seed, alpha=CFG.alpha, batch_size=batch,
                       max_steps=CFG.max_steps, tol=CFG.tol, n_threads=1)
        rule = simplification_rule([check_sweep(sw, X, y, CFG.tol)], "shift")
        assert result.algorithm(name).threshold == rule["threshold"]


# ------------------------------------------------------------------ counts are recounts of the arrays
def test_false_assurance_counts_equal_a_recount_of_the_arrays(result):
    arr, sm = result.arrays(), result.summary()
    for k in H.ALGORITHMS:
        conv, dist, shift = arr[f"{k}_converged"], arr[f"{k}_distance"], arr[f"{k}_shift"]
        use = conv & np.isfinite(dist) & np.isfinite(shift)
        thr = sm[f"{k}_threshold"]
        says = use & (shift < thr)
        wrong = says & ~(dist < CFG.level)
        calm = use & ~arr[f"{k}_sign_change"]
        assert sm[f"{k}_n_heldout_runs"] == use.sum() > 0
        assert (sm[f"{k}_n_says_within"], sm[f"{k}_n_wrong"]) == (says.sum(), wrong.sum())
        assert sm[f"{k}_first_clause_n_says_within"] == calm.sum()
        assert sm[f"{k}_first_clause_n_wrong"] == np.sum(calm & (dist >= CFG.level))
        if says.any():
            assert sm[f"{k}_rate"] == wrong.sum() / says.sum()
            assert sm[f"{k}_worst_distance"] == dist[says].max()
            w = sm[f"{k}_worst_params"]
            p = result.problems[arr[f"{k}_problem"][sm[f"{k}_worst_run"]]]
            assert (w["kind"], w["seed"], w["distance"]) == (p.kind, p.seed, dist[says].max())
        assert sm[f"{k}_reliable"] == bool(says.any() and wrong.sum() <= CFG.max_rate * says.sum())
        first_wrong = np.sum(calm & (dist >= CFG.level))
        first_ok = calm.any() and first_wrong <= CFG.max_rate * calm.sum()
        assert sm[f"{k}_first_clause_reliable"] == bool(first_ok)
        # the full theorems hold on the judged runs: the distances measure the simplification
        assert sm[f"{k}_max_distance_full"] < 0.005


def test_summary_lines_and_json(result):
    assert all(len(line) <= 80 for line in result.lines())
    doc = json.loads(json.dumps(H.to_json(result, "test")))
    assert doc["code_key"] == code_key("mdln.experiments.holdout")
    assert doc["summary"]["mgf_threshold"] == result.mgf.threshold
    assert len(doc["problems"]) == CFG.n_heldout and isinstance(result.message, str) and result.message


def test_committed_paper_file_matches_the_code():
    path = Path(__file__).resolve().parent.parent / "book" / "holdout_paper.json"
    doc = json.loads(path.read_text())
    assert doc["fidelity"] == "paper"
    assert doc["config"] == json.loads(json.dumps(H._jsonable(dataclasses.asdict(
        H.HoldoutConfig.preset("paper")))))
    assert doc["code_key"] == code_key("mdln.experiments.holdout"), \
        "book/holdout_paper.json is stale: rerun python -m mdln.experiments.holdout --fidelity paper"
    assert doc["summary"]["n_heldout_sets"] >= 30


# ------------------------------------------------------------------ bad inputs
BAD = [
    (lambda: H.HoldoutConfig(level=0.0), ValueError, "level"),
    (lambda: H.HoldoutConfig(level=1.0), ValueError, "level"),
    (lambda: H.HoldoutConfig(max_rate=-0.1), ValueError, "max_rate"),
    (lambda: H.HoldoutConfig(betas=(0.5, 1.0)), ValueError, "betas"),
    (lambda: H.HoldoutConfig(gammas=(0.1, -0.2)), ValueError, "gammas"),
    (lambda: H.HoldoutConfig(mgd_lam_range=(1.0, 0.1)), ValueError, "mgd_lam_range"),
    (lambda: H.HoldoutConfig(batch_size=20), ValueError, "batch_size"),
    (lambda: H.HoldoutConfig(heldout_seed_base=3), ValueError, "heldout_seed_base"),
    (lambda: H.HoldoutConfig(train_s=40), ValueError, "train_s"),
    (lambda: H.HoldoutConfig.preset("fast"), ValueError, "fidelity"),
    (lambda: H.run_holdout("book"), TypeError, "HoldoutConfig"),
    (lambda: H.run_holdout(CFG, problems=[1, 2]), TypeError, "Problem"),
    (lambda: H.run_holdout(CFG, problems=[Problem(n=5, d=20, s=2)]), ValueError, "batch_size"),
    (lambda: H.heldout_problems(0), ValueError, "count"),
    (lambda: H.fit_threshold([0.1, 0.2], [0.1], 0.01), ValueError, "same shape"),
    (lambda: H.fit_threshold([np.nan], [0.1], 0.01), ValueError, "finite"),
    (lambda: H.fit_threshold([0.1], [0.1], 2.0), ValueError, "level"),
    (lambda: H.fit_threshold(np.ones((2, 2)), np.ones((2, 2))), ValueError, "1-D"),
    (lambda: H.assurance([True], [np.inf]), ValueError, "finite"),
    (lambda: H.assurance([True, False], [0.1]), ValueError, "same shape"),
    (lambda: _hand_made().clause("second"), ValueError, "which"),
    (lambda: _hand_made().at_threshold(-1.0), ValueError, "threshold"),
]


@pytest.mark.parametrize("case", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_inputs_raise_clear_errors(case):
    assert_raises_case(case)


def test_unknown_algorithm_raises(result):
    with pytest.raises(ValueError, match="algorithm"):
        result.algorithm("gd")


def test_cli_writes_the_summary(result, tmp_path, capsys):
    out = tmp_path / "holdout.json"
    H.main(["--fidelity", "test", "--out", str(out)])          # the runs are cached by the fixture
    doc = json.loads(out.read_text())
    assert doc["fidelity"] == "test" and doc["summary"]["smgd_threshold"] == result.smgd.threshold
    assert str(out) in capsys.readouterr().out
