"""The paper's claims as data: each statement the book checks, its measurement, and a computed verdict.

A :class:`Claim` names one statement of the paper (``paper_ref`` "Theorem 2", "Appendix F.2.2"), quotes
it (``statement``), says what kind of check it is (:class:`Kind`) and what the check can detect
(``detects``), and holds a ``measure``: a function of the fidelity returning a :class:`Measurement`,
the values of one quantity over the runs / data sets of the experiments' cached results (with each
value's parameters). The verdict compares the measurement with ``threshold`` in ``direction``
("below": the statistic must be < threshold; "above": > threshold); the statistic is the worst value
(``judge="worst"``, the default) or the median (``judge="median"``, when the claim is about the
typical case). It is never typed (:func:`verdict_of`):

* ``HOLDS``: the statistic over every measured value passes;
* ``HOLDS_WHERE``: it fails over all values, but passes over the values meeting the claim's
  ``condition`` (the measurement's ``where`` part, e.g. the runs without a sign change);
* ``FAILS``: otherwise (also when nothing could be measured).

``evaluate(fidelity, names)`` runs the measures and returns frozen :class:`ClaimResult` s with the
numbers (worst, median, spread, n), the worst case's parameters and ``sentence()`` for the chapters.

The registry
------------
``CLAIMS`` is a tuple of :class:`Claim`, in paper order. Adding a claim is one entry::

    def _my_quantity(fidelity):
        res = my_experiment.run(MyConfig.preset(fidelity))           # cached on disk
        return _measure(res.errors, _grid_params(res.gammas, res.betas))

    CLAIMS += (Claim(
        name="my_claim", paper_ref="Lemma 3", kind=Kind.THEOREM,
        statement="…the paper's words…", measure=_my_quantity,
        threshold=1e-6, direction="below", reason="why this threshold",
        detects="what a failure of this check would reveal",
        figures=("fig4",), experiments=("mdln.experiments.my_experiment",)),)

``figures`` names the registry figures (``python -m mdln reproduce FIG``) whose results the claim reads
(its ``claims.json``); ``experiments`` the modules whose code keys (:func:`mdln.cache.code_key`) date the
numbers. Kinds: ``IDENTITY`` holds by construction (a check of algebra and solvers, not of the theorem),
``THEOREM`` a proved statement checked in a form that can fail, ``EMPIRICAL`` an observation the paper
reports, ``OPEN`` a question the paper leaves open (chapter 6), phrased as the hypothesis measured.

Paper fidelity: the open questions read ``book/open_questions_paper.json`` (their paper run takes
hours); every other measure runs its experiment at the paper preset (cached on disk).

Core layer: imports the experiments and core modules only (no plotting, no ``mdln.text``).
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Callable

import numpy as np

from ._checks import check_callable, check_fidelity, check_real
from .status import Status

__all__ = ["Kind", "Verdict", "Measurement", "Measured", "Claim", "ClaimResult", "CLAIMS", "evaluate",
           "verdict_of", "format_value", "evaluate_claims", "claim_names", "get_claim", "claims_for_figure",
           "claims_json", "experiment_modules",
           "OPEN_QUESTIONS_PAPER", "PAPER_CLAIMS", "load_paper_claims"]

OPEN_QUESTIONS_PAPER = Path(__file__).resolve().parent.parent / "book" / "open_questions_paper.json"
"""The committed paper-fidelity run of the open questions (chapter 6), read at paper fidelity."""
PAPER_CLAIMS = Path(__file__).resolve().parent.parent / "book" / "claims_paper.json"
"""The committed claims at paper fidelity: ``python -m mdln claims --fidelity paper --out`` this path."""


class Kind(Enum):
    """What a check can tell: by construction, a theorem in a failable form, an observation, a question."""

    IDENTITY = "identity"
    THEOREM = "theorem"
    EMPIRICAL = "empirical"
    OPEN = "open"


class Verdict(Enum):
    """The computed verdict of a claim (:func:`verdict_of`)."""

    HOLDS = "holds"
    HOLDS_WHERE = "holds where"
    FAILS = "fails"


@dataclass(frozen=True)
class Measurement:
    """Values of one quantity over runs / data sets, each with its parameters; ``where``: the same over
    the values meeting the claim's condition (None when the claim has none)."""

    values: tuple
    params: tuple = ()
    where: "Measurement | None" = None

    def __post_init__(self):
        vals = tuple(float(v) for v in np.ravel(np.asarray(self.values, dtype=float)))
        params = tuple(self.params) if self.params else tuple({} for _ in vals)
        if len(params) != len(vals):
            raise ValueError(f"Measurement: {len(vals)} values but {len(params)} parameter dicts")
        keep = [i for i, v in enumerate(vals) if math.isfinite(v)]
        object.__setattr__(self, "values", tuple(vals[i] for i in keep))
        object.__setattr__(self, "params", tuple(dict(params[i]) for i in keep))


@dataclass(frozen=True)
class Measured:
    """Statistics of a measurement: worst (by the claim's direction), median, spread = max − min, n."""

    worst: float
    median: float
    spread: float
    n: int

    def to_dict(self):
        """Plain JSON-able numbers (NaN as the string 'nan')."""
        return {k: _json_float(v) for k, v in dataclasses.asdict(self).items()}


@dataclass(frozen=True)
class Claim:
    """One statement of the paper, its measure over the experiments' results and its threshold."""

    name: str
    paper_ref: str
    kind: Kind
    statement: str
    measure: Callable
    threshold: float
    direction: str
    reason: str
    detects: str
    condition: str = ""
    judge: str = "worst"
    figures: tuple = ()
    experiments: tuple = ()

    def __post_init__(self):
        if self.direction not in ("below", "above"):
            raise ValueError(f"Claim {self.name!r}: direction must be 'below' or 'above', "
                             f"got {self.direction!r}")
        if self.judge not in ("worst", "median"):
            raise ValueError(f"Claim {self.name!r}: judge must be 'worst' or 'median', got {self.judge!r}")
        if not isinstance(self.kind, Kind):
            raise TypeError(f"Claim {self.name!r}: kind must be a Kind, got {self.kind!r}")
        check_callable(self.measure, "measure")
        check_real(self.threshold, "threshold")

    def passes(self, value) -> bool:
        """Whether one statistic meets the threshold in the claim's direction (NaN never does)."""
        if not math.isfinite(value):
            return False
        return value < self.threshold if self.direction == "below" else value > self.threshold


@dataclass(frozen=True)
class ClaimResult:
    """A claim evaluated at one fidelity: the numbers, the worst case and the computed verdict."""

    name: str
    paper_ref: str
    kind: Kind
    statement: str
    measured: Measured
    measured_where: Measured | None
    threshold: float
    direction: str
    judge: str
    worst_params: dict
    verdict: Verdict
    condition: str
    fidelity: str
    detects: str
    reason: str
    figures: tuple = ()
    experiments: tuple = ()

    def statistic(self, where=False):
        """The statistic the verdict compares (worst or median), over all values or the condition's."""
        m = self.measured_where if where else self.measured
        if m is None:
            return float("nan")
        return m.median if self.judge == "median" else m.worst

    def sentence(self) -> str:
        """One sentence: the verdict with its number and threshold (plain text, formatted here)."""
        rel = "<" if self.direction == "below" else ">"
        stat = "median" if self.judge == "median" else "worst"
        head = f"{self.paper_ref} ({self.name}) {self.verdict.value}"
        if self.measured.n == 0:
            return f"{head}: nothing could be measured at {self.fidelity} fidelity."
        n = self.measured.n
        value = format_value(self.statistic(), self.threshold)
        num = (f"{stat} {value} over {n} value{'s' if n != 1 else ''} "
               f"(needs {rel} {self.threshold:g})")
        if self.verdict is Verdict.HOLDS_WHERE:
            cond = self.condition.removeprefix("where ")
            where = format_value(self.statistic(True), self.threshold)
            return (f"{head} {cond}: {stat} {where} over "
                    f"{self.measured_where.n} there, {num.replace(stat + ' ', 'overall ', 1)}, "
                    f"at {self.fidelity} fidelity.")
        return f"{head}: {num}, at {self.fidelity} fidelity."

    def to_dict(self) -> dict:
        """Plain JSON-able dict (enums by value)."""
        return dict(name=self.name, paper_ref=self.paper_ref, kind=self.kind.value, statement=self.statement,
                    measured=self.measured.to_dict(),
                    measured_where=None if self.measured_where is None else self.measured_where.to_dict(),
                    threshold=_json_float(self.threshold), direction=self.direction, judge=self.judge,
                    worst_params=_jsonable(self.worst_params), verdict=self.verdict.value,
                    condition=self.condition, fidelity=self.fidelity, detects=self.detects,
                    reason=self.reason, figures=list(self.figures), experiments=list(self.experiments),
                    sentence=self.sentence())


def _fmt(x) -> str:
    """Two significant digits, plain text: 0.0044, 1.3e-03; below 1e-8 a bound, "< 1e-9" (rounding level)."""
    x = float(x)
    if not math.isfinite(x):
        return str(x)
    if x != 0 and abs(x) < 1e-8:
        return f"< 1e{int(math.floor(math.log10(abs(x)))) + 1}"
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.2g}"
    return f"{x:.1e}"


def format_value(x, threshold=None) -> str:
    """A measured value as the claims print it: 2 significant digits, a bound "< 1e-9" below 1e-8; with
    ``threshold``, as many digits (up to 6) as it takes not to print the threshold itself (0.9987, not 1)."""
    text = _fmt(x)
    if threshold is None or not math.isfinite(float(x)) or text.startswith("<"):
        return text
    if float(x) == float(threshold):
        return text
    for digits in range(3, 7):
        if float(text) != float(threshold):
            break
        text = f"{float(x):.{digits}g}"
    return text


def _json_float(x):
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return _json_float(obj)
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    return obj


# ------------------------------------------------------------------------------------ verdicts
def _stats(m: Measurement, direction: str) -> Measured:
    v = np.asarray(m.values, dtype=float)
    if v.size == 0:
        return Measured(float("nan"), float("nan"), float("nan"), 0)
    worst = float(v.max() if direction == "below" else v.min())
    return Measured(worst, float(np.median(v)), float(v.max() - v.min()), int(v.size))


def _worst_index(m: Measurement, direction: str):
    if not m.values:
        return None
    v = np.asarray(m.values)
    return int(np.argmax(v) if direction == "below" else np.argmin(v))


def verdict_of(claim: Claim, measured: Measured, measured_where: Measured | None) -> Verdict:
    """HOLDS if the statistic over all values passes, HOLDS_WHERE if only over the condition's, else FAILS."""
    def stat(m):
        return m.median if claim.judge == "median" else m.worst
    if measured.n and claim.passes(stat(measured)):
        return Verdict.HOLDS
    where_ok = measured_where is not None and measured_where.n and claim.passes(stat(measured_where))
    if claim.condition and where_ok:
        return Verdict.HOLDS_WHERE
    return Verdict.FAILS


def _evaluate_one(claim: Claim, fidelity: str) -> ClaimResult:
    m = claim.measure(fidelity)
    if not isinstance(m, Measurement):
        raise TypeError(f"claim {claim.name!r}: measure must return a Measurement, got {type(m).__name__}")
    measured = _stats(m, claim.direction)
    where = _stats(m.where, claim.direction) if m.where is not None else None
    verdict = verdict_of(claim, measured, where)
    src = m.where if verdict is Verdict.HOLDS_WHERE else m
    i = _worst_index(src, claim.direction)
    worst = dict(src.params[i]) if i is not None else {}
    return ClaimResult(name=claim.name, paper_ref=claim.paper_ref, kind=claim.kind, statement=claim.statement,
                       measured=measured, measured_where=where, threshold=float(claim.threshold),
                       direction=claim.direction, judge=claim.judge, worst_params=worst, verdict=verdict,
                       condition=claim.condition, fidelity=fidelity, detects=claim.detects,
                       reason=claim.reason,
                       figures=tuple(claim.figures), experiments=tuple(claim.experiments))


# ------------------------------------------------------------------------ shared, memoised results
_MEMO = {}


def _memo(fn):
    """Memoise a fidelity → result function for the process (the results are cached on disk too)."""
    def wrapper(fidelity):
        key = (fn.__name__, fidelity)
        if key not in _MEMO:
            _MEMO[key] = fn(fidelity)
        return _MEMO[key]
    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def clear_memo():
    """Forget the in-process results (the disk cache is untouched)."""
    _MEMO.clear()


@_memo
def _fig1(f):
    from .experiments.sec2 import Fig1Config, run_fig1
    return run_fig1(Fig1Config.preset(f))


@_memo
def _fig2(f):
    from .experiments.nets import Fig2Config, run_fig2
    return run_fig2(Fig2Config.preset(f))


@_memo
def _fig6(f):
    from .experiments.nets import Fig6Config, run_fig6
    return run_fig6(Fig6Config.preset(f))


@_memo
def _figA(f):
    from .experiments.appendix_a import FigAConfig, run_figA
    return run_figA(FigAConfig.preset(f))


@_memo
def _fig3(f):
    from .experiments.sec3 import Fig3Config, run_fig3
    return run_fig3(Fig3Config.preset(f))


@_memo
def _fig9(f):
    from .experiments.sec3 import Fig9Config, run_fig9
    return run_fig9(Fig9Config.preset(f))


@_memo
def _fig3b(f):
    from .experiments.sec3 import SimplificationConfig, run_simplification
    return run_simplification(SimplificationConfig.preset(f))


@_memo
def _forms(f):
    from .experiments.sec3 import Theorem1FormsConfig, run_theorem1_forms
    return run_theorem1_forms(Theorem1FormsConfig.preset(f))


@_memo
def _d2_link(f):
    from .experiments.sec3 import D2LinkConfig, run_d2_link
    return run_d2_link(D2LinkConfig.preset(f))


_SMALL_LAMS = {"test": (1e-3, 0.01)}


@_memo
def _cor2(f):
    from .experiments.sec3 import corollary2_table
    return corollary2_table(**({"lams": _SMALL_LAMS[f]} if f in _SMALL_LAMS else {}))


@_memo
def _small_lambda(f):
    from .experiments.sec3 import small_lambda_table
    return small_lambda_table(**({"lams": (1e-4,) + _SMALL_LAMS[f]} if f in _SMALL_LAMS else {}))


@_memo
def _fig4(f):
    from .experiments.sec4 import Fig4Config, run_fig4
    return run_fig4(Fig4Config.preset(f))


@_memo
def _fig7(f):
    from .experiments.sec4 import Fig7Config, run_fig7
    return run_fig7(Fig7Config.preset(f), fig4_result=_fig4(f))


@_memo
def _d2(f):
    from .experiments.sec4 import D2Config, run_d2
    return run_d2(D2Config.preset(f))


@_memo
def _stochastic(f):
    from .experiments.sec4 import StochasticConfig, run_stochastic
    return run_stochastic(StochasticConfig.preset(f))


@_memo
def _check4(f):
    from .experiments.sec4 import Fig4Config
    from .experiments.theorems import check_fig4
    return check_fig4(Fig4Config.preset(f))


@_memo
def _check_sto(f):
    from .experiments.sec4 import StochasticConfig
    from .experiments.theorems import check_stochastic
    return check_stochastic(StochasticConfig.preset(f))


@_memo
def _tolerance(f):
    from .experiments.theorems import ToleranceConfig, tolerance_study
    return tolerance_study(ToleranceConfig.preset(f))


@_memo
def _dropped(f):
    from .experiments.theorems import DroppedTermConfig, dropped_term_study
    return dropped_term_study(DroppedTermConfig.preset(f))


@_memo
def _lemma_forms(f):
    from .experiments.lemma_forms import LemmaFormsConfig, run_lemma_forms
    return run_lemma_forms(LemmaFormsConfig.preset(f))


@_memo
def _holdout(f):
    from .experiments.holdout import HoldoutConfig, run_holdout
    return run_holdout(HoldoutConfig.preset(f))


@_memo
def _open(f):
    """The open-questions study as its JSON form (paper: the committed file; else run, cached)."""
    if f == "paper":
        if not OPEN_QUESTIONS_PAPER.exists():
            raise FileNotFoundError(f"paper-fidelity open questions need {OPEN_QUESTIONS_PAPER} "
                                    "(python -m mdln.experiments.open_questions --fidelity paper --out book)")
        return json.loads(OPEN_QUESTIONS_PAPER.read_text())
    from .experiments.open_questions import OpenQuestionsConfig, run, to_json
    return to_json(run(OpenQuestionsConfig.preset(f)))


# ------------------------------------------------------------------------------ measure helpers
def _measure(values, params=None, where=None):
    """A Measurement of flat values (params: one dict per value, or None)."""
    values = np.ravel(np.asarray(values, dtype=float))
    return Measurement(tuple(values), tuple(params) if params is not None else (), where)


def _grid_params(gammas, betas, n_rep, seeds=None):
    """One dict per (γ, β, replication) in C order, for arrays of shape (G, Bt, R)."""
    seeds = list(range(n_rep)) if seeds is None else [int(s) for s in seeds]
    return [dict(gamma=float(g), beta=float(b), seed=seeds[r]) for g in gammas for b in betas
            for r in range(n_rep)]


def _select(values, params, mask):
    mask = np.ravel(np.asarray(mask, dtype=bool))
    values = np.ravel(np.asarray(values, dtype=float))
    return values[mask], [p for p, m in zip(params, mask) if m]


def _check_families(f, mini_batch_only=True):
    """(label, Theorem2Check, params) for the MGD families: Figure 4 grid, stochastic sweeps, 20 data sets."""
    out = []
    c4 = _check4(f)
    out.append(("Figure 4", c4, _grid_params(c4.gammas, c4.betas, c4.status.shape[-1],
                                             _fig4(f).config.seeds)))
    for B, c in _check_sto(f).items():
        if mini_batch_only and c.family == "full batch":
            continue
        out.append((c.family, c, [dict(p, batch_size=int(B)) for p in
                                  _grid_params(c.gammas, c.betas, c.status.shape[-1])]))
    st = _dropped(f)
    c = st.check
    sup = {int(sd): str(sp) for sd, sp in zip(st.seeds, st.support)}
    out.append((c.family, c, [dict(p, support=sup[p["seed"]]) for p in
                              _grid_params(c.gammas, c.betas, c.status.shape[-1], st.seeds)]))
    return out


def _family_values(f, field_name, mask_fn):
    vals, params = [], []
    for label, c, ps in _check_families(f):
        v, p = _select(getattr(c, field_name), ps, mask_fn(c))
        vals.append(v)
        params += [dict(q, family=label) for q in p]
    return np.concatenate(vals), params


def _loglog_order(x, y):
    """Slope of log y against log x between the first and last points (the order of convergence)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return float(np.log(y[0] / y[-1]) / np.log(x[0] / x[-1]))


# ------------------------------------------------------------------------------ Section 2
def _m_fig1_order(f):
    r = _fig1(f)
    return _measure([r.gap_slope], [dict(lam=r.config.gap_lam, eps=list(map(float, r.gap_eps)))])


def _m_fig1_gaps(f):
    s = _fig1(f).summary()
    return _measure([s["gap_gd_gf"], s["gap_mgd_mgf"]], [dict(pair="GD vs GF"), dict(pair="MGD vs MGF")])


def _m_acceleration(f):
    s = _fig1(f).summary()
    keys = sorted(k for k in s if k.startswith("accel_gap_rho"))
    return _measure([s[k] for k in keys], [dict(rho=int(k.rsplit("rho", 1)[1])) for k in keys])


def _m_prop2(f):
    from .cache import cached_arrays
    from .implicit import prop2_demo

    def compute():   # chapter 3's demonstration (a minute of implicit ODE at rtol 1e-12), cached here
        p = prop2_demo(lam=0.5)
        return dict(distance=np.array(p.distance), train_loss=np.array(p.train_loss))
    p = cached_arrays("claims-prop2", dict(lam=0.5), compute)
    return _measure([float(p["distance"])], [dict(lam=0.5, train_loss=float(p["train_loss"]))])


def _m_fig2(f):
    r = _fig2(f)
    q = r.quantification()
    return _measure([q["r2_log_lam"]], [dict(cells=int(q["n_valid_cells"]), r2_log_gamma=q["r2_log_gamma"])])


def _m_fig6(f):
    q = _fig6(f).quantification("test")
    return _measure([q["r2_log_lam"]], [dict(cells=int(q["n_valid_cells"]), r2_log_gamma=q["r2_log_gamma"])])


# ------------------------------------------------------------------------------ Appendix A
def _m_alt_lam(f):
    return _measure([_figA(f).summary()["max_ratio_error"]])


def _m_two_flows(f):
    s = _figA(f).summary()
    return _measure([s["dln_test_rel_diff_lam_max"], s["dln_test_rel_diff_lamp_max"]],
                    [dict(flow="MGF(λ)"), dict(flow="MGF(λ')")])


# ------------------------------------------------------------------------------ Section 3
def _fig3_params(r, mask=None):
    seeds = r.config.seeds
    return [dict(lam=float(la), seed=int(sd)) for sd in seeds for la in r.lams]


def _m_thm1_endpoint(f):
    r, b = _fig3(f), _fig3b(f)
    vals = np.concatenate([np.ravel(r.distance_full), b.distance_full])
    params = [dict(p, study="Figure 3") for p in _fig3_params(r)]
    params += [dict(lam=float(la), random_support=bool(rs), study="120-run study")
               for la, rs in zip(b.lam, b.random_support)]
    return _measure(vals, params)


def _m_lemma1_forms(f):
    r = _forms(f)
    ok = ~r.vanished
    return _measure(r.integral_gap[ok],
                    [dict(lam=float(la), seed=int(sd)) for la, sd in zip(r.lam[ok], r.seed[ok])])


def _lemma_mgf(f, field):
    """A lemma-forms MGF field over the runs where some w±,i vanishes (Lemma 1's sign-change case)."""
    r = _lemma_forms(f)
    on = np.asarray(r.mgf_crossed, dtype=bool)
    vals = np.asarray(getattr(r, field), dtype=float)[on]
    params = [dict(lam=float(la), seed=int(sd), vanishing_times=int(z), algorithm="MGF")
              for la, sd, z in zip(r.mgf_lam[on], r.mgf_seed[on], r.mgf_zeros[on])]
    return _measure(vals, params)


def _lemma_mgd(f, field):
    """A lemma-forms SMGD field over the runs whose iterates change sign (Lemma 2's sign-change case)."""
    r = _lemma_forms(f)
    on = np.asarray(r.mgd_crossed, dtype=bool)
    vals = np.asarray(getattr(r, field), dtype=float)[on]
    params = [dict(gamma=float(g), beta=float(b), batch_size=int(B), seed=int(sd), algorithm="SMGD")
              for g, b, B, sd in zip(r.mgd_gamma[on], r.mgd_beta[on], r.mgd_batch[on], r.mgd_seed[on])]
    return _measure(vals, params)


def _m_lemma1_definition(f):
    return _lemma_mgf(f, "mgf_gap")


def _m_thm1_delta_definition(f):
    return _lemma_mgf(f, "mgf_delta_gap")


def _m_lemma2_rz(f):
    return _lemma_mgd(f, "mgd_gap")


def _m_thm2_delta_rz(f):
    return _lemma_mgd(f, "mgd_delta_gap")


def _heldout_rates(f, clause):
    """Per algorithm, the held-out false-assurance rate of one clause of the simplification rule."""
    r = _holdout(f)
    vals, params = [], []
    for alg in ("mgf", "mgd", "smgd"):
        a = r.algorithm(alg)
        c = a.clause(clause)
        vals.append(c["rate"] if c["n_says"] else float("nan"))
        params.append(dict(algorithm=alg, fitted_threshold=float(a.threshold), n_wrong=int(c["n_wrong"]),
                           n_says_within=int(c["n_says"]), heldout_sets=int(a.n_heldout_sets)))
    return _measure(vals, params)


def _m_rule_heldout(f):
    return _heldout_rates(f, "shift")


def _m_first_clause_heldout(f):
    return _heldout_rates(f, "first")


def _m_thm1_traj(f):
    r = _forms(f)
    ok = ~r.vanished
    return _measure(r.distance_full_traj[ok],
                    [dict(lam=float(la), seed=int(sd)) for la, sd in zip(r.lam[ok], r.seed[ok])])


def _m_cor2(f):
    rows = [(la, err) for la, van, err in _cor2(f) if not van]
    return _measure([e for _, e in rows], [dict(lam=la) for la, _ in rows])


def _m_cor2_shrink(f):
    r = _fig3(f)
    alpha = r.config.data.alpha
    vals, params = [], []
    for k, sd in enumerate(r.config.seeds):
        for j, la in enumerate(r.lams):
            if la == 0 or r.vanished[k, j]:
                continue
            d0 = alpha ** 2
            vals.append(max(float(np.max(r.delta_inf[k, j] / d0)),
                            float(np.max(np.abs(r.theta_tilde0[k, j]))) / alpha ** 2))
            params.append(dict(lam=float(la), seed=int(sd)))
    return _measure(vals, params)


def _m_prop3(f):
    probs = _open(f)["problems"]
    vals = [math.log10(float(p["lam_c"]) / float(p["bound"])) for p in probs
            if _finite(p["lam_c"]) and _finite(p["bound"])]
    params = [dict(p["problem"]) for p in probs if _finite(p["lam_c"]) and _finite(p["bound"])]
    return _measure(vals, params)


def _finite(x):
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _m_fig3_gain(f):
    r = _fig3(f)
    pos = r.lams > 0
    gains = r.test_loss[:, 0] / np.min(r.test_loss[:, pos], axis=1)
    return _measure(gains, [dict(seed=int(s)) for s in r.config.seeds])


def _m_star_vanished(f):
    r = _fig3(f)
    pos = np.flatnonzero(r.lams > 0)
    vals, params = [], []
    for k, sd in enumerate(r.config.seeds):
        j = pos[np.argmin(r.test_loss[k, pos])]
        vals.append(float(r.vanished[k, j]))
        params.append(dict(seed=int(sd), lam_star=float(r.lams[j]), mu=float(r.config.data.mu)))
    return _measure(vals, params)


def _corr(a, b):
    a, b = np.ravel(a), np.ravel(b)
    return float(np.corrcoef(a, b)[0, 1]) if a.size > 2 else float("nan")


def _m_fig8(f):
    r = _fig3(f)
    ld = np.log(r.delta_norm)
    return _measure([_corr(ld, np.log(r.test_loss)), _corr(ld, np.log(r.l1_norm))],
                    [dict(pair="log‖Δ∞‖, log test loss"), dict(pair="log‖Δ∞‖, log ‖θ‖₁")])


def _m_fig9(f):
    r = _fig9(f)
    vals, params = [], []
    for i, mu in enumerate(r.mus):
        if mu == 0:
            continue
        vals.append(_corr(np.log(r.delta_norm[i]), np.log(r.test_loss[i])))
        params.append(dict(mu=float(mu)))
    return _measure(vals, params)


def _m_simplification_mgf(f):
    r, r9, b = _fig3(f), _fig9(f), _fig3b(f)
    pos = r.lams > 0
    parts = []   # (values, vanished, params)
    for k, sd in enumerate(r.config.seeds):
        parts += [(r.distance[k, j], r.vanished[k, j], dict(study="Figure 3", mu=float(r.config.data.mu),
                                                             seed=int(sd), lam=float(r.lams[j])))
                  for j in np.flatnonzero(pos)]
    pos9 = r9.lams > 0
    for i, mu in enumerate(r9.mus):
        for k, sd in enumerate(r9.config.seeds):
            parts += [(r9.distance[i, k, j], r9.vanished[i, k, j],
                       dict(study="Figure 9", mu=float(mu), seed=int(sd), lam=float(r9.lams[j])))
                      for j in np.flatnonzero(pos9)]
    parts += [(d, v, dict(study="120-run study", lam=float(la), random_support=bool(rs)))
              for d, v, la, rs in zip(b.distance, b.vanished, b.lam, b.random_support)]
    vals = [p[0] for p in parts]
    calm = [i for i, p in enumerate(parts) if not p[1]]
    return _measure(vals, [p[2] for p in parts],
                    where=_measure([vals[i] for i in calm], [parts[i][2] for i in calm]))


def _rule_on_mgd(f, mgf_measure, mgd_field):
    thr = _fig3b(f).rule(mgf_measure)["threshold"]

    def mask(c):
        with np.errstate(invalid="ignore"):
            return c.converged & (getattr(c, mgd_field) < thr)
    vals, params = _family_values(f, "distance", mask)
    return _measure(vals, [dict(p, mgf_threshold=thr) for p in params])


def _m_rule_shift(f):
    return _rule_on_mgd(f, "linearised", "shift")


def _m_rule_dropped(f):
    return _rule_on_mgd(f, "dropped_term", "dropped")


def _m_c5(f):
    lams, sim, approx = _small_lambda(f)
    small = (lams <= 0.01) & np.isfinite(approx)
    return _measure(np.abs(approx[small] / sim[small] - 1), [dict(lam=float(la)) for la in lams[small]])


def _m_sec33_formula(f):
    lams, sim, approx = _small_lambda(f)
    small = (lams <= 0.01) & np.isfinite(approx)
    # Section 3.3 writes Δ∞² ≈ Δ0² exp(−2λ∫∇L²): log(Δ∞/Δ0) ≈ −λ∫∇L², half the C.5 exponent
    return _measure(np.abs(sim[small] / (approx[small] / 2) - 1), [dict(lam=float(la)) for la in lams[small]])


def _m_sec33_monotone(f):
    lams, sim, _ = _small_lambda(f)
    small = lams <= 0.01
    shrink = -sim[small]
    return _measure(np.diff(shrink), [dict(lam_from=float(a), lam_to=float(b))
                                      for a, b in zip(lams[small][:-1], lams[small][1:])])


# ------------------------------------------------------------------------------ Appendix D.2
def _m_d2_link(f):
    r = _d2_link(f)
    return _measure([_loglog_order(r.eps, r.a_error), _loglog_order(r.eps, r.distance_full)],
                    [dict(quantity="max|a_MGD − a_MGF|", eps=list(map(float, r.eps))),
                     dict(quantity="full-theorem distance", eps=list(map(float, r.eps)))])


def _m_d2_sums(f):
    r = _d2(f)
    rows = r.rows
    return _measure([rows[-1, 7]], [dict(eps=float(rows[-1, 0]), beta=float(rows[-1, 2]), lam=r.config.lam)])


# ------------------------------------------------------------------------------ Section 4
def _fig4_params(r):
    return _grid_params(r.gammas, r.betas, r.status.shape[-1], r.config.seeds)


def _m_thm2_delta(f):
    r = _fig4(f)
    v, p = _select(r.theorem2_error_finite, _fig4_params(r), r.status != Status.DIVERGED)
    return _measure(v, p)


def _m_thm2_full(f):
    vals, params = _family_values(f, "distance_full", lambda c: c.converged)
    return _measure(vals, params)


def _m_thm2_sqrt_tol(f):
    t = _tolerance(f)
    vals, params = [], []
    for i, (g, b, B) in enumerate(t.runs):
        ok = (t.status[i] == Status.CONVERGED) & np.isfinite(t.distance_full[i])
        if ok.sum() >= 2:
            vals.append(float(np.polyfit(np.log(t.tols[ok]), np.log(t.distance_full[i, ok]), 1)[0]))
            params.append(dict(gamma=g, beta=b, batch_size="n" if B is None else B))
    return _measure(vals, params)


def _m_cor3(f):
    r = _fig4(f)
    calm = (r.status == Status.CONVERGED) & ~r.crossed
    v, p = _select(~r.cor3_ok, _fig4_params(r), calm)
    return _measure(v.astype(float), p)


def _m_simplification_mgd(f):
    vals, params = _family_values(f, "distance", lambda c: c.converged)
    calm_v, calm_p = _family_values(f, "distance", lambda c: c.converged & ~c.crossed)
    return _measure(vals, params, where=_measure(calm_v, calm_p))


def _m_fig4_collapse(f):
    s = _fig4(f).summary()
    names = ("delta_norm", "test_loss", "l1")
    return _measure([s[f"collapse_{n}_lam"] for n in names],
                    [dict(quantity=n, eta2_log_gamma=s[f"collapse_{n}_gamma"]) for n in names])


def _m_fig7(f):
    s = _fig7(f).summary()
    return _measure([s["correlation_converged"]], [dict(cells=s["cells_converged"])])


def _m_smgd_collapse(f):
    r = _stochastic(f)
    return _measure([d["eta2_delta_lam"] for d in r.values()],
                    [dict(batch_size=int(B), eta2_log_gamma=d["eta2_delta_gamma"]) for B, d in r.items()])


# ------------------------------------------------------------------------------ open questions
def _m_open_loose(f):
    return _m_prop3(f)


def _m_open_law(f):
    s = _open(f)["summary"]
    if "r2_test" not in s or not s.get("law_enough", False):
        return _measure([])
    return _measure([s["r2_test"]], [dict(n_train=s["law_n_train"], n_test=s["law_n_test"])])


def _smgd_rows(f):
    d = _open(f)
    return d["smgd"], d["problems"]


def _m_open_smgd_level(f):
    rows, probs = _smgd_rows(f)
    groups = {}
    for r in rows:
        groups.setdefault((r["problem"], r["batch_size"]), []).append(r["lam_c"])
    vals, params = [], []
    for (i, b), v in groups.items():
        if all(_finite(x) for x in v):
            vals.append(float(np.ptp(np.log10(np.asarray(v, float)))))
            params.append(dict(problem=i, batch_size=b))
    return _measure(vals, params)


def _m_open_smgd_sign(f):
    rows, _ = _smgd_rows(f)
    ok = [r for r in rows if _finite(r["lam_c"]) and _finite(r["lam_c_mgf"])]
    return _measure([float(r["lam_c"]) / float(r["lam_c_mgf"]) for r in ok],
                    [dict(problem=r["problem"], batch_size=r["batch_size"], beta=r["beta"]) for r in ok])


def _m_open_star(f):
    probs = _open(f)["problems"]
    ok = [p for p in probs if _finite(p["lam_c"])]
    return _measure([float(p["lam_star"]) / float(p["lam_c"]) for p in ok], [dict(p["problem"]) for p in ok])


# ------------------------------------------------------------------------------ the registry
_S2, _S3, _S4 = "mdln.experiments.sec2", "mdln.experiments.sec3", "mdln.experiments.sec4"
_NETS, _APPA, _THM = "mdln.experiments.nets", "mdln.experiments.appendix_a", "mdln.experiments.theorems"
_OQ, _IMPL = "mdln.experiments.open_questions", "mdln.implicit"
_MGD_FAMILIES = ("fig4",)

CLAIMS = (
    # ---------------------------------------------------------------- Section 2, Appendices A and F.1
    Claim("mgd_discretises_mgf", "Proposition 1", Kind.THEOREM,
          "Discretising MGF(λ), λ = γ/(1−β)², with step ε = √(λγ) = γ/(1−β) leads to MGD(γ, β).",
          _m_fig1_order, 0.9, "above",
          "a discretisation of order one: the MGD–MGF gap grows like ε (log-log slope 1); 0.9 allows for "
          "the least-squares fit over the ε grid",
          "the order in ε of the gap between MGD and MGF(λ) at fixed λ on the Figure 1 quadratic, not the "
          "size of its constant", figures=("fig1",), experiments=(_S2,)),
    Claim("figure1_paths", "Figure 1", Kind.EMPIRICAL,
          "(M)GD over a 2D quadratic … the MGF and MGD trajectories [are close]: the Grönwall-type bound "
          "is pessimistic.",
          _m_fig1_gaps, 0.01, "below",
          "1% of the initial distance ‖w0 − w*‖ is below what Figure 1 can show",
          "a visible departure of the iterates from the flow on Figure 1's paths",
          figures=("fig1",), experiments=(_S2,)),
    Claim("acceleration_rule", "Corollary 1", Kind.THEOREM,
          "MGD(γ̂, β̂) with γ̂ = ρ²γ and β̂ = 1 − ρ(1 − β) becomes the discretisation of the same MGF(λ) "
          "but with discretisation step ε̂ = ρ·ε.",
          _m_acceleration, 0.05, "below",
          "the accelerated path may differ from MGD(γ, β) by the discretisation error O(ρε); 5% of the "
          "path length at ρ ≤ 4",
          "that the accelerated iterates retrace MGD's path ρ times faster, up to the discretisation error",
          figures=("fig1",), experiments=(_S2,)),
    Claim("figure2_relu_lambda", "Figure 2", Kind.EMPIRICAL,
          "The test loss [of the teacher–student ReLU network] … λ = γ/(1−β)² aligns well with the level "
          "lines of the test loss as expected from Proposition 1.",
          _m_fig2, 0.5, "above",
          "log λ alone explains the larger part (η² > 0.5) of the variance of the log test loss",
          "whether the converged runs' test loss is organised by λ rather than by γ or β",
          figures=("fig2",), experiments=(_NETS,)),
    Claim("figure6_deep_linear_lambda", "Figure 6", Kind.EMPIRICAL,
          "Test and train loss of a fully connected deep linear network trained with MGD(γ, β) … [follow] "
          "the level lines of λ.",
          _m_fig6, 0.5, "above",
          "log λ alone explains the larger part (η² > 0.5) of the variance of the log test loss",
          "whether the deep linear network's test loss is organised by λ",
          figures=("fig6",), experiments=(_NETS,)),
    Claim("central_difference_lambda", "Appendix A", Kind.IDENTITY,
          "[The central-difference scheme gives] λ = (1 + β)γ / (2(1 − β)²) and ε = γ/(1 − β).",
          _m_alt_lam, 1e-12, "below",
          "an algebraic identity: rounding only",
          "the algebra of λ' = (1+β)/2·λ in the code (mdln.alt_lam), not any dynamics",
          figures=("figA",), experiments=(_APPA,)),
    Claim("appendixA_two_flows", "Appendix A", Kind.EMPIRICAL,
          "Experimentally, running MGF(λ) with the two different values for λ leads to similar results.",
          _m_two_flows, 0.05, "below",
          "'similar results': the network's test loss at the horizon within 5% of MGD's for both flows",
          "a difference in outcome between the two continuous surrogates of MGD on the diagonal network",
          figures=("figA",), experiments=(_APPA,)),
    # ---------------------------------------------------------------- Section 3
    Claim("alvarez_least_squares", "Proposition 2", Kind.THEOREM,
          "Initialised at θ0 with initial speed θ̇0, momentum gradient flow MGF(λ) over the least squares "
          "loss (3) converges towards argmin_{θ⋆∈S} ‖θ⋆ − (θ0 + λθ̇0)‖².",
          _m_prop2, 1e-8, "below",
          "the ODE is integrated at rtol 1e-12: the limit must match the projection to 1e-8",
          "a wrong limit of MGF on least squares (the prediction is closed form, independent of the solver)",
          experiments=(_IMPL,)),
    Claim("theorem1_endpoint_form", "Theorem 1", Kind.IDENTITY,
          "θMGF = argmin_{θ⋆∈S} D_ψ∆∞(θ⋆, θ̃0), ∆∞ = ∆0 ⊙ exp(−(I+ + I−)), "
          "θ̃0 = ¼(w²+,0 ⊙ exp(−2I+) − w²−,0 ⊙ exp(−2I−)).",
          _m_thm1_endpoint, 1e-6, "below",
          "the runs stop at train loss 1e-20 with solver rtol 1e-10: the floor is near 1e-9; 1e-6 leaves "
          "three decades",
          "interpolation and quadrature accuracy, not the theorem: with I± in the endpoint form, any "
          "trajectory that reaches an interpolator satisfies it",
          figures=("fig3", "fig8", "fig3b"), experiments=(_S3,)),
    Claim("lemma1_integral_vs_endpoint", "Lemma 1", Kind.THEOREM,
          "The integral quantities Ω± … are well defined and finite [and I± = Ω± + Λ±, Eq. (19)].",
          _m_lemma1_forms, 1e-4, "below",
          "the trapezoidal quadrature of λ∫(ẇ±/w±)² on the solver's grid is accurate to about 1e-5",
          "a mismatch between Lemma 1's integral form of I± and the endpoint form, on runs without sign "
          "changes only (Λ± = 0 there)",
          experiments=(_S3,)),
    Claim("lemma1_definition_sign_change", "Lemma 1", Kind.THEOREM,
          "I± = Ω± + Λ± (Eq. 19), with Ω± the modified principal value of λ∫(ẇ±/w±)² across each time "
          "some w±,i vanishes, equals the endpoint form of I± used by Theorem 1.",
          _m_lemma1_definition, 1e-4, "below",
          "the dense-output quadrature near each vanishing time is accurate to about 1e-5 at rtol 1e-10; "
          "the deliberately wrong forms (plain principal value, Λ± dropped) miss by 0.1 or more",
          "an error in Lemma 1 itself (Ω±, Λ± or the modified principal value) on runs WITH sign changes: "
          "the endpoint form would agree with any trajectory, this one would not",
          experiments=("mdln.experiments.lemma_forms",)),
    Claim("theorem1_delta_from_definition", "Theorem 1", Kind.THEOREM,
          "∆∞ = ∆0 ⊙ exp(−(I+ + I−)), with I± from Lemma 1's definition, on runs where Δ_t vanishes.",
          _m_thm1_delta_definition, 1e-4, "below",
          "same quadrature floor as Lemma 1's definition form",
          "a wrong Δ∞ law in the sign-changing case, with I± computed from the trajectory, not its endpoints",
          experiments=("mdln.experiments.lemma_forms",)),
    Claim("theorem1_integral_form", "Theorem 1", Kind.THEOREM,
          "θMGF = argmin_{θ⋆∈S} D_ψ∆∞(θ⋆, θ̃0) with θ̃0 formed from I± = λ∫(ẇ±/w±)² (no sign change).",
          _m_thm1_traj, 1e-6, "below",
          "same floor as the endpoint form (stopping train loss, solver tolerance)",
          "a failure of Theorem 1 with θ̃0 built from the trajectory integrals, on runs without sign change",
          experiments=(_S3,)),
    Claim("corollary2_delta_formula", "Corollary 2", Kind.THEOREM,
          "If the balancedness ∆t remains strictly positive during training, … "
          "∆∞ = ∆0 ⊙ exp(−λ∫(ẇ+,t/w+,t)² + (ẇ−,t/w−,t)² dt).",
          _m_cor2, 1e-3, "below",
          "the test suite's tolerance for the quadrature of a dense trajectory (refine = 8)",
          "a wrong Δ∞ formula or trajectory quadrature, on runs where Δ_t stays positive",
          experiments=(_S3,)),
    Claim("corollary2_shrinks", "Corollary 2", Kind.THEOREM,
          "… then the perturbed initialisation satisfies |θ̃0| < α² and … Importantly, ∆∞ < ∆0.",
          _m_cor2_shrink, 1.0, "below",
          "the statement's own bound: max_i Δ∞,i/Δ0,i and max_i |θ̃0,i|/α² below 1",
          "a run without sign change whose Δ∞ grew or whose θ̃0 reached α²",
          figures=("fig3", "fig8"), experiments=(_S3,)),
    Claim("proposition3_bound", "Proposition 3", Kind.THEOREM,
          "For λ ≤ n/‖y‖²₂ · (min_i ∆0,i), the balancedness ∆t never vanishes.",
          _m_prop3, 0.0, "above",
          "log10(λ_c / bound) > 0: the measured smallest vanishing λ lies above the bound",
          "a data set on which Δ_t vanishes below the bound (λ_c is bisected, so up to its tolerance)",
          figures=("open-questions",), experiments=(_OQ,)),
    Claim("figure3_momentum_helps", "Figure 3", Kind.EMPIRICAL,
          "In Figure 3, we empirically observe an interval (0, λmax) in which MGF(λ) outperforms GF in "
          "terms of generalisation.",
          _m_fig3_gain, 1.0, "above",
          "per replication, the best λ > 0 has a lower test loss than gradient flow (ratio > 1)",
          "a data set on which no λ of the grid beats gradient flow",
          figures=("fig3",), experiments=(_S3,)),
    Claim("lambda_star_where_delta_vanishes", "Section 3.3", Kind.EMPIRICAL,
          "Unfortunately, as observed Figure 3, the balancedness vanishes for λ = λ⋆, and therefore "
          "Corollary 2 does not cover the optimal value.",
          _m_star_vanished, 0.5, "above",
          "per replication, 1 when Δ_t vanished in the run at λ* (the best test loss over λ > 0), else 0: "
          "every replication must give 1",
          "a replication whose best λ lies where Δ_t stays positive (Corollary 2 would cover it)",
          figures=("fig3",), experiments=(_S3,)),
    Claim("figure8_delta_controls", "Figure 8", Kind.EMPIRICAL,
          "The test loss and sparsity of θMGF correlate with the magnitude of ∆∞ as predicted by Theorem 1.",
          _m_fig8, 0.0, "above",
          "a positive correlation over the runs is what the figure shows",
          "a sign error in the relation between Δ∞ and generalisation or sparsity on Figure 3's runs",
          figures=("fig8",), experiments=(_S3,)),
    Claim("figure9_uncentred", "Figure 9", Kind.EMPIRICAL,
          "For uncentered data the magnitude of the balancedness at infinity ∆∞ correlates with the test "
          "loss of the interpolator selected by MGF(λ).",
          _m_fig9, 0.0, "above",
          "a positive correlation over λ for every μ > 0",
          "an uncentred data mean for which smaller Δ∞ does not go with a smaller test loss",
          figures=("fig9",), experiments=(_S3,)),
    Claim("simplification_mgf", "Appendix F.2.1", Kind.EMPIRICAL,
          "No matter the mean of the data distribution or the size of λ ∈ (0, 1), the normalised distance "
          "between θMGF and θGF∆∞ is always upper-bounded by 0.01.",
          _m_simplification_mgf, 0.01, "below",
          "the paper's own level, 0.01",
          "runs on which dropping θ̃0 (Eq. 8) moves the solution by more than 1%",
          condition="where Δ_t stays positive (no sign change)",
          figures=("fig3", "fig9", "fig3b"), experiments=(_S3,)),
    Claim("simplification_rule_shift", "Appendix F.2.2", Kind.EMPIRICAL,
          "(This book's rule) the simplification θ ≈ argmin_S ψ_Δ∞ is within 1% wherever the first-order "
          "shift ‖δθ‖/‖θ‖ is below the threshold fitted on the MGF runs.",
          _m_rule_shift, 0.01, "below",
          "the paper's 1%, on MGD runs the MGF fit never saw",
          "whether the rule fitted on MGF carries over to MGD and SMGD (out of sample across algorithms)",
          figures=_MGD_FAMILIES + ("fig3b",), experiments=(_S3, _THM)),
    Claim("simplification_rule_dropped", "Appendix F.2.2", Kind.EMPIRICAL,
          "(This book's rule) the simplification is within 1% wherever the dropped term "
          "max_i|arcsinh(2θ̃0,i/Δ∞,i)| is below the threshold fitted on the MGF runs.",
          _m_rule_dropped, 0.01, "below",
          "the paper's 1%, on MGD runs the MGF fit never saw",
          "whether the dropped-term rule fitted on MGF carries over to MGD and SMGD",
          figures=_MGD_FAMILIES + ("fig3b",), experiments=(_S3, _THM)),
    Claim("simplification_rule_heldout", "Appendix F.2.2", Kind.EMPIRICAL,
          "(This book's rule) the simplification is within 1% wherever the first-order shift ‖δθ‖/‖θ‖ is "
          "below a threshold fitted, per algorithm, on the book's data family.",
          _m_rule_heldout, 0.05, "below",
          "a usable rule is wrong on at most 5% of the runs it vouches for, on data sets the fit never saw "
          "(random supports, Toeplitz and Rademacher X, other n, d, s, μ)",
          "a threshold that only works on the data it was fitted on (false assurance out of sample)",
          experiments=("mdln.experiments.holdout",)),
    Claim("simplification_first_clause_heldout", "Appendix F.2.1", Kind.EMPIRICAL,
          "(The book's first clause) where the iterates never change sign, dropping θ̃0 moves the solution "
          "by less than 1%.",
          _m_first_clause_heldout, 0.05, "below",
          "a usable clause is wrong on at most 5% of the runs it vouches for, on held-out data sets",
          "sign-free runs on which the simplification is still off by more than 1%",
          experiments=("mdln.experiments.holdout",)),
    Claim("small_lambda_appendix_c5", "Appendix C.5", Kind.THEOREM,
          "For small λ, … ∆∞ ≈ ∆0 ⊙ exp(−2λ∫∇L(θs)² ds) (Appendix C.5's form).",
          _m_c5, 0.01, "below",
          "a first-order approximation in λ: its relative error in log(Δ∞/Δ0) is O(λ), below 1% for "
          "λ ≤ 0.01",
          "a wrong small-λ expansion (relative error of the exponent at λ ≤ 0.01)",
          experiments=(_S3,)),
    Claim("small_lambda_section33_formula", "Section 3.3", Kind.THEOREM,
          "For small λ, we informally show in Appendix C.5 that ∆²∞ ≈ ∆²0 ⊙ exp(−2λ∫∇L(θs)² ds).",
          _m_sec33_formula, 0.01, "below",
          "the same 1% as Appendix C.5's form",
          "the factor of the exponent as printed in Section 3.3 (for Δ∞², i.e. λ∫∇L² for log Δ∞)",
          experiments=(_S3,)),
    Claim("small_lambda_monotone", "Section 3.3", Kind.EMPIRICAL,
          "The above approximation suggests that for small values of λ, ∆∞ monotonically decreases with λ "
          "as experimentally confirmed by Figure 3.",
          _m_sec33_monotone, 0.0, "above",
          "the shrinkage −log(Δ∞/Δ0) increases between consecutive λ ≤ 0.01",
          "a non-monotone Δ∞ at small λ",
          experiments=(_S3,)),
    # ---------------------------------------------------------------- Appendix D.2
    Claim("d2_mgd_to_mgf", "Appendix D.2", Kind.THEOREM,
          "In order for λ to remain constant and ε to go to 0, we must both have γ → 0 and β → 1. Hence, "
          "(1 + β)/2 → 1, and we recover the continuous-time expression for the balancedness.",
          _m_d2_link, 0.8, "above",
          "MGD is a first-order discretisation: errors fall like ε (order 1); 0.8 allows for the "
          "pre-asymptotic range of two or three ε values",
          "that MGD's S± (and θ̃0) converge to MGF's I± as ε → 0, on a run where w± change sign",
          experiments=(_S3,)),
    Claim("d2_sums_half_factor", "Appendix D.2", Kind.THEOREM,
          "∆MGD∞ ≈ ∆0 exp(−(1+β)/2 · λ∫(ẇ+/w+)² + (ẇ−/w−)² dt) when the iterates do not cross zero.",
          _m_d2_sums, 0.01, "below",
          "relative gap between S = S+ + S− and (1+β)/2·λI at the smallest ε, below 1%",
          "a wrong factor (1+β)/2 between the discrete sums and the continuous integrals",
          experiments=(_S4,)),
    # ---------------------------------------------------------------- Section 4
    Claim("theorem2_delta_telescoped", "Theorem 2", Kind.IDENTITY,
          "∆∞ = ∆0 ⊙ exp(−(S+ + S−)).",
          _m_thm2_delta, 1e-6, "below",
          "floating-point accumulation of S± over up to 10⁶ steps stays far below 1e-6",
          "the bookkeeping of S± and of the momentum boundary factor: with S± accumulated in the "
          "telescoped w± form, Δ_K = Δ0·e^{−(S₊+S₋)} holds for any run",
          figures=("fig4",), experiments=(_S4,)),
    Claim("lemma2_rz_vs_telescoped", "Lemma 2", Kind.IDENTITY,
          "S± = Σ_k [r(z±,k) + β r(1/z±,k)]/(1 − β) (up to the boundary terms), z±,k = w±,k+1/w±,k.",
          _m_lemma2_rz, 1e-8, "below",
          "the sums of ln|z_k| telescope for any sequence of iterates: only rounding separates the forms",
          "rounding and the engine's bookkeeping of the sums, not Lemma 2 (the forms agree for any iterates)",
          experiments=("mdln.experiments.lemma_forms",)),
    Claim("theorem2_delta_from_rz_sums", "Theorem 2", Kind.THEOREM,
          "∆K = ∆0 ⊙ exp(−(S+ + S−)) (with the finite-K boundary term), S± from Lemma 2's r(z) sums, on SMGD "
          "runs whose iterates change sign.",
          _m_thm2_delta_rz, 1e-7, "below",
          "the identity is exact at any step count; 1e-7 leaves room for rounding over 10⁵ steps",
          "an error in Lemma 2's sums or Theorem 2's Δ law on sign-changing runs (dropping the β r(1/z) "
          "half breaks it by more than 1e-3)",
          experiments=("mdln.experiments.lemma_forms",)),
    Claim("theorem2_full_telescoped", "Theorem 2", Kind.IDENTITY,
          "θSMGD = argmin_{θ⋆∈S} D_ψ∆∞(θ⋆, θ̃0), θ̃0 = ¼(w²+,0 e^{−2S+} − w²−,0 e^{−2S−}).",
          _m_thm2_full, 0.01, "below",
          "judged at the paper's 1%, the level the simplification is judged at; the distance is set by the "
          "stopping tolerance (train loss 1e-8), not by the theorem",
          "the stopping tolerance and the implicit-solution solve, not the theorem: with S± telescoped, "
          "∇ψ(θ_K) − ∇ψ(θ̃0) lies in span(Xᵀ) for any run that interpolates",
          figures=("fig4",), experiments=(_S4, _THM)),
    Claim("theorem2_sqrt_tolerance", "Theorem 2", Kind.IDENTITY,
          "(Numerical form) the full-theorem distance vanishes with the stopping tolerance, like √tol.",
          _m_thm2_sqrt_tol, 0.4, "above",
          "a distance proportional to √tol has log-log slope 0.5 in tol; 0.4 allows for the three-point fit",
          "that the full-theorem distance is a stopping-tolerance effect that vanishes, not a floor",
          experiments=(_THM,)),
    Claim("corollary3_no_sign_change", "Corollary 3", Kind.THEOREM,
          "For γ, β > 0, if the iterates w±,k = (uk ± vk) do not change sign during training, then "
          "|θ̃0| < α² and ∆∞ < ∆0.",
          _m_cor3, 0.5, "below",
          "per run 1 when the conclusion fails, 0 otherwise: every run must give 0",
          "a converged MGD run without sign change whose Δ∞ or θ̃0 breaks the bound",
          figures=("fig4",), experiments=(_S4,)),
    Claim("simplification_mgd", "Appendix F.2.2", Kind.EMPIRICAL,
          "We find that ‖θMGD − θGF∆∞‖₂/‖θGF∆∞‖₂ < 0.01 for all pairs (γ, β) in Figure 4.",
          _m_simplification_mgd, 0.01, "below",
          "the paper's own level, 0.01",
          "runs (Figure 4 grid, mini-batch sweeps, 20 data sets) on which dropping θ̃0 (Eq. 10) moves the "
          "solution by more than 1%",
          condition="where the iterates do not change sign",
          figures=_MGD_FAMILIES, experiments=(_S4, _THM)),
    Claim("figure4_lambda_collapse", "Figure 4", Kind.EMPIRICAL,
          "As predicted by Proposition 1, the three quantities at convergence only depend on the single "
          "parameter λ := γ/(1 − β)².",
          _m_fig4_collapse, 0.5, "above",
          "log λ alone explains the larger part (η² > 0.5) of the variance of each cell-mean quantity",
          "a quantity (test loss, ‖Δ∞‖, ‖θ‖₁) not organised by λ on the Figure 4 grid",
          figures=("fig4",), experiments=(_S4,)),
    Claim("figure7_mgd_vs_mgf", "Figure 7", Kind.EMPIRICAL,
          "We observe an almost one-to-one correspondence in terms of generalisation capacity, which "
          "demonstrates that MGF(λ) serves as a suitable continuous surrogate for MGD(γ, β).",
          _m_fig7, 0.7, "above",
          "a correlation of 0.7 between the two heatmaps explains about half the variance",
          "cells where MGD's test loss departs from MGF(λ)'s",
          figures=("fig7",), experiments=(_S4,)),
    Claim("smgd_lambda_collapse", "Section 4", Kind.EMPIRICAL,
          "Figure 4 indicates that ∆∞ effectively depends on the single parameter λ = γ/(1−β)² "
          "(here for SMGD with mini-batches).",
          _m_smgd_collapse, 0.5, "above",
          "log λ alone explains the larger part (η² > 0.5) of the variance of log ‖Δ∞‖, per batch size",
          "a batch size at which Δ∞ is not organised by λ",
          experiments=(_S4,)),
    # ---------------------------------------------------------------- open questions (chapter 6)
    Claim("open_proposition3_loose", "Section 3.3 (Limitations)", Kind.OPEN,
          "Experimentally, ∆t never hits 0 for much larger values of λ than n/‖y‖²₂ · (min_i ∆0,i), making "
          "the bound from Proposition 3 relatively loose.",
          _m_open_loose, 1.0, "above",
          "'much larger': λ_c above the bound by more than a decade on every data set",
          "how loose the bound is over varied data sets (designs, n, d, s, μ, α)",
          figures=("open-questions",), experiments=(_OQ,)),
    Claim("open_lambda_c_law", "Section 3.3 (Limitations)", Kind.OPEN,
          "(Question) Does a law of simple data quantities predict the λ at which Δ_t first vanishes?",
          _m_open_law, 0.5, "above",
          "held-out R² ≥ 0.5 (mdln.experiments.open_questions.R2_THRESHOLD), with at least two training "
          "problems per fitted parameter",
          "whether log λ_c is predictable on data sets the fit never saw",
          figures=("open-questions",), experiments=(_OQ,)),
    Claim("open_smgd_follows_lambda", "Section 4", Kind.OPEN,
          "(Question) Does SMGD's sign-change threshold depend on (γ, β) through λ?",
          _m_open_smgd_level, 0.3, "below", judge="median",
          reason="the median spread of log10 λ_c over β at most 0.3 decades "
                 "(mdln.experiments.open_questions.LEVEL_SET_DECADES)",
          detects="whether the SMGD threshold is a level set of λ across β, per data set and batch size",
          figures=("open-questions",), experiments=(_OQ,)),
    Claim("open_smgd_keeps_sign", "Corollary 3", Kind.OPEN,
          "In contrast to the continuous case and even though we believe it to be true, we were unable to "
          "prove that the SMGD iterates do not change sign for small values of λ.",
          _m_open_smgd_sign, 0.8, "above",
          "measured as: SMGD keeps its sign wherever MGF does, λ_c(SMGD)/λ_c(MGF) ≥ 0.8 (both thresholds "
          "are bisected, to relative tolerances up to 10% and 2% at book fidelity)",
          "a (data set, B, β) at which SMGD changes sign at a λ well below MGF's λ_c",
          figures=("open-questions",), experiments=(_OQ,)),
    Claim("open_lambda_star_past_c", "Section 3.3", Kind.OPEN,
          "(Question) Does λ* always lie where Δ_t has already vanished (λ* > λ_c), as on Figure 3?",
          _m_open_star, 1.0, "above",
          "λ*/λ_c > 1 on every data set of the study",
          "data sets whose best λ lies in the range Corollary 2 covers",
          figures=("open-questions",), experiments=(_OQ,)),
)


# ------------------------------------------------------------------------------ public functions
def claim_names() -> list:
    """The names of CLAIMS, in order."""
    return [c.name for c in CLAIMS]


def get_claim(name: str) -> Claim:
    """The claim called ``name``; ValueError listing the known names otherwise."""
    for c in CLAIMS:
        if c.name == name:
            return c
    raise ValueError(f"unknown claim {name!r}; known claims: {', '.join(claim_names())}")


def claims_for_figure(figure: str) -> list:
    """Names of the claims whose measure reads the results of registry figure ``figure``."""
    return [c.name for c in CLAIMS if figure in c.figures]


def experiment_modules(names=None) -> list:
    """The experiment modules the claims ``names`` (default: all) read, sorted."""
    sel = CLAIMS if names is None else [get_claim(n) for n in names]
    return sorted({m for c in sel for m in c.experiments})


def evaluate(fidelity="book", names=None) -> list:
    """Evaluate the claims ``names`` (default: all of CLAIMS) at ``fidelity``: a list of ClaimResult."""
    fidelity = check_fidelity(fidelity)
    if names is None:
        sel = list(CLAIMS)
    else:
        if isinstance(names, (str, bytes)) or not hasattr(names, "__iter__"):
            raise TypeError(f"names must be a list of claim names, got {names!r}")
        names = list(names)
        unknown = [n for n in names if n not in claim_names()]
        if unknown:
            bad = ", ".join(repr(n) for n in unknown)
            raise ValueError(f"names must be known claim names: unknown claim {bad}; "
                             f"known claims: {', '.join(claim_names())}")
        sel = [get_claim(n) for n in names]
    return [_evaluate_one(c, fidelity) for c in sel]


def load_paper_claims(path=None) -> dict:
    """The committed paper-fidelity claims document (:data:`PAPER_CLAIMS`): fidelity, date, code keys,
    claims (dicts of :meth:`ClaimResult.to_dict`) and ``stale``, the experiment modules whose code key
    no longer matches the code (their numbers predate the code)."""
    from .cache import code_key
    path = PAPER_CLAIMS if path is None else Path(path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["stale"] = sorted(m for m, k in doc.get("code_keys", {}).items() if code_key(m) != k)
    return doc


evaluate_claims = evaluate
"""The package-level name of :func:`evaluate` (``mdln.evaluate_claims``)."""


def claims_json(results, date=None) -> dict:
    """The JSON document of ``results``: every claim, each experiment's code key and the date."""
    import datetime
    from .cache import code_key, library_versions
    mods = sorted({m for r in results for m in r.experiments})
    fids = sorted({r.fidelity for r in results})
    return dict(fidelity=fids[0] if len(fids) == 1 else fids,
                date=date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
                code_keys={m: code_key(m) for m in mods}, libraries=library_versions(),
                claims=[r.to_dict() for r in results])
