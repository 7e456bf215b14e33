"""The figure registry: one static registry, every figure config → (experiment, plot) → result, and the
'paper' fidelity meaning the paper's own set-up (Section 4 and Appendix F: (n, d, s) = (20, 30, 5),
(μ, σ) = (1, 1), u0 = α1 with α = 0.01, 5 replications, 10⁶ epochs for Figure 4, 1000 for Figure 6)."""
import dataclasses

import pytest

from mdln import figures
from mdln._checks import FIDELITIES

REG = figures.registry()
# figures of the paper (fig3b is the book's own Theorem 1 study over 20 data sets)
PAPER_SETUP = dict(n=20, d=30, s=5, mu=1.0, sigma=1.0, alpha=0.01)
DLN_FIGURES = [name for name, spec in REG.items() if spec.module in ("sec3", "sec4", "appendix_a")
               and name != "fig3b"]


def test_registry_lists_every_figure_of_every_module_once():
    from mdln.figures import appendix_a, nets, open_questions, sec2, sec3, sec4
    names = [n for m in (sec2, sec3, sec4, nets, appendix_a, open_questions) for n in m.FIGURES]
    assert sorted(names) == sorted(REG) and len(names) == len(set(names))
    for name, spec in REG.items():
        assert spec.fn.__module__ == f"mdln.figures.{spec.module}", name


@pytest.mark.parametrize("name", sorted(REG))
def test_every_preset_is_a_frozen_config(name):
    spec = REG[name]
    for fid in FIDELITIES:
        cfg = spec.make_config(fid)
        assert isinstance(cfg, spec.config) and dataclasses.is_dataclass(cfg)
        field = dataclasses.fields(cfg)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(cfg, field, getattr(cfg, field))


# Appendix A compares MGD with the two flows along one trajectory: one data set, not 5 replications
ONE_DATA_SET = {"figA"}


@pytest.mark.parametrize("name", DLN_FIGURES)
def test_paper_fidelity_is_the_papers_setup(name):
    cfg = dataclasses.asdict(REG[name].make_config("paper"))
    cfg = {**cfg, **cfg.get("data", {}), **cfg.get("fig4", {}).get("data", {})}   # one DataConfig inside
    for key, value in PAPER_SETUP.items():
        if key in cfg:
            assert cfg[key] == value, (name, key)
    if "seeds" in cfg and name not in ONE_DATA_SET:
        assert len(set(cfg["seeds"])) == 5, name
    if name in ONE_DATA_SET:
        assert len(cfg["seeds"]) == 1, name


def test_paper_epoch_budgets():
    assert REG["fig4"].make_config("paper").max_epochs == 10 ** 6     # "for 1 million epochs" (App. F.2)
    assert REG["fig6"].make_config("paper").epochs == 1000            # "trained for 1000 epochs" (App. F.1)
    assert REG["fig6"].make_config("paper").n_reps == 5


def test_specs_expose_experiment_and_plot():
    """Every spec names its core experiment and its plot (None while a module does not say them yet)."""
    for name in ("fig2", "fig4", "fig6", "fig7"):
        spec = REG[name]
        assert spec.experiment.__module__ == f"mdln.experiments.{spec.module}", name
        assert spec.plot.__module__ == f"mdln.figures.{spec.module}", name
    for spec in REG.values():
        assert spec.experiment is None or callable(spec.experiment)
        assert spec.plot is None or callable(spec.plot)


def test_make_config_validates_the_fidelity_once():
    with pytest.raises(ValueError, match="fidelity must be one of 'test', 'book', 'paper', got 'huge'"):
        REG["fig4"].make_config("huge")


def test_spec_run_and_draw_at_test_fidelity():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    spec = REG["fig6"]
    res = spec.run(spec.make_config("test"))
    assert not hasattr(res, "plot")                   # the core result; the spec's plot draws it
    fig = spec.draw(res)
    assert len(fig.axes) >= 2
    plt.close(fig)
