"""The difference in differences recovers a simulated effect, deterministically, and says
insufficient_data rather than a number it cannot support."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from direkte.evaluation import did
from direkte.evaluation.panel import Panel
from direkte.evaluation.simulation import simulate


def _history(seed: int, effect: float = 0.05):  # type: ignore[no-untyped-def]
    return simulate(centers=50, weeks=52, visits=50 * 52 * 150, effect=effect, seed=seed)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_interval_covers_the_true_effect_and_the_estimate_is_close(seed: int) -> None:
    history = _history(seed)
    result = did.evaluate(history.panel(), seed=seed)
    assert result.estimate is not None
    assert result.ci is not None
    lo, hi = result.ci
    assert lo <= history.effect <= hi
    assert abs(result.estimate - history.effect) < 0.2 * history.effect
    assert result.recommendation == "go"
    assert result.level == 0.95
    assert result.method == "difference_in_differences"
    assert result.treated_centers == 30
    assert result.control_centers >= 20

    escalations = did.evaluate(history.panel("escalation_rate"), seed=seed, higher_is_better=False)
    assert escalations.ci is not None
    assert escalations.estimate is not None
    assert escalations.ci[0] <= history.escalation_effect <= escalations.ci[1]
    assert abs(escalations.estimate - history.escalation_effect) < 0.3


def test_pre_period_gaps_are_flat_under_parallel_trends() -> None:
    result = did.evaluate(_history(3).panel(), seed=3)
    assert [g.event_time for g in result.pre_trend] == list(range(-8, 0))
    assert all(abs(g.gap) < 0.02 for g in result.pre_trend)
    assert [g.event_time for g in result.post_trend][:3] == [0, 1, 2]
    assert np.mean([g.gap for g in result.post_trend]) == pytest.approx(0.05, abs=0.015)


def test_same_data_and_seed_give_the_same_interval() -> None:
    panel = _history(4).panel()
    first = did.evaluate(panel, seed=11, n_boot=299)
    again = did.evaluate(panel, seed=11, n_boot=299)
    assert first.ci == again.ci
    assert first.estimate == again.estimate
    other = did.evaluate(panel, seed=12, n_boot=299)
    assert other.estimate == first.estimate
    assert other.ci != first.ci


def test_no_effect_straddles_zero_and_a_harmful_one_is_no_go() -> None:
    none = did.evaluate(_history(5, effect=0.0).panel(), seed=5)
    assert none.ci is not None
    assert none.ci[0] < 0 < none.ci[1]
    assert none.recommendation == "insufficient_data"
    assert "includes zero" in none.reason
    harm = did.evaluate(_history(6, effect=-0.05).panel(), seed=6)
    assert harm.recommendation == "no_go"


def test_a_gate_figure_that_got_worse_stops_a_go() -> None:
    result = did.evaluate(_history(7).panel(), seed=7, worse_gates=["escalation_rate"])
    assert result.recommendation == "no_go"
    assert "escalation_rate" in result.reason


def test_too_few_centers_is_insufficient_data_with_the_reason() -> None:
    history = simulate(centers=6, weeks=30, effect=0.05, seed=1)
    result = did.evaluate(history.panel(), seed=1)
    assert result.recommendation == "insufficient_data"
    assert result.estimate is None
    assert result.ci is None
    assert "treated centers" in result.reason
    assert "at least 5" in result.reason


def test_too_few_weeks_before_entry_is_insufficient_data() -> None:
    weeks = tuple(date(2026, 1, 5) + timedelta(weeks=w) for w in range(6))
    centers = tuple(f"C{i}" for i in range(12))
    values = np.full((12, 6), 0.6)
    treated = np.zeros((12, 6), dtype=bool)
    treated[:6, 2:] = True  # two weeks before entry: not enough to know their levels
    result = did.evaluate(Panel(centers, weeks, values, treated), seed=0)
    assert result.recommendation == "insufficient_data"
    assert "0 treated centers with at least 4 weeks before entry" in result.reason


def test_an_unbalanced_panel_with_gaps_still_recovers_the_effect() -> None:
    history = _history(8)
    panel = history.panel()
    rng = np.random.default_rng(8)
    values = panel.values.copy()
    values[rng.random(values.shape) < 0.15] = np.nan  # weeks without figures
    values[:5, :10] = np.nan  # centers that opened later
    result = did.evaluate(Panel(panel.centers, panel.weeks, values, panel.treated), seed=8)
    assert result.ci is not None
    assert result.ci[0] <= 0.05 <= result.ci[1]


def test_an_exact_panel_gives_the_exact_effect() -> None:
    # Center levels plus week effects plus 0.1 when treated, no noise, staggered entry.
    centers, weeks = 12, 20
    level = np.linspace(0.4, 0.7, centers)[:, None]
    week = np.sin(np.arange(weeks) / 3)[None, :] / 10
    treated = np.zeros((centers, weeks), dtype=bool)
    for i in range(6):
        treated[i, 6 + i :] = True
    values = level + week + 0.1 * treated
    values[7, 3] = np.nan
    panel = Panel(
        tuple(f"C{i}" for i in range(centers)),
        tuple(date(2026, 1, 5) + timedelta(weeks=w) for w in range(weeks)),
        values,
        treated,
    )
    result = did.evaluate(panel, seed=0, n_boot=99)
    assert result.estimate == pytest.approx(0.1, abs=1e-9)
    assert result.ci == pytest.approx((0.1, 0.1), abs=1e-9)
    assert all(abs(g.gap) < 1e-9 for g in result.pre_trend)


def test_a_panel_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        Panel(("A",), (date(2026, 1, 5),), np.zeros((2, 1)), np.zeros((1, 1), dtype=bool))


def test_an_empty_panel_is_insufficient_data() -> None:
    empty = Panel((), (), np.zeros((0, 0)), np.zeros((0, 0), dtype=bool))
    assert did.evaluate(empty).recommendation == "insufficient_data"
    no_weeks = Panel(("A", "B"), (), np.zeros((2, 0)), np.zeros((2, 0), dtype=bool))
    assert did.evaluate(no_weeks).recommendation == "insufficient_data"


def test_bad_parameters_are_refused() -> None:
    panel = _history(9).panel()
    with pytest.raises(ValueError, match="level"):
        did.evaluate(panel, level=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        did.evaluate(panel, n_boot=10)


def test_an_effect_that_grows_in_the_program_is_averaged_over_the_treated_weeks() -> None:
    # Staggered entry with an effect growing by 0.02 a week in the program: plain TWFE
    # would compare later waves with earlier ones and be biased; the imputation gives
    # the mean effect over the treated center-weeks exactly.
    centers, weeks = 16, 24
    level = np.linspace(0.4, 0.7, centers)[:, None]
    week = np.cos(np.arange(weeks) / 4)[None, :] / 10
    treated = np.zeros((centers, weeks), dtype=bool)
    effect = np.zeros((centers, weeks))
    for i in range(10):
        entry = 6 + 2 * (i % 5)
        treated[i, entry:] = True
        effect[i, entry:] = 0.02 * np.arange(1, weeks - entry + 1)
    panel = Panel(
        tuple(f"C{i}" for i in range(centers)),
        tuple(date(2026, 1, 5) + timedelta(weeks=w) for w in range(weeks)),
        level + week + effect,
        treated,
    )
    result = did.evaluate(panel, seed=0, n_boot=99)
    assert result.estimate == pytest.approx(effect[treated].mean(), abs=1e-9)
    assert [round(g.gap, 9) for g in result.post_trend[:3]] == [0.02, 0.04, 0.06]
