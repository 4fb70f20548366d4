"""Difference in differences on weekly center figures, with a center bootstrap.

The estimator (docs/figures.md, "Evaluation") is two-way fixed effects fitted
the way that stays unbiased under a staggered rollout: the imputation estimator
of Borusyak, Jaravel and Spiess (2024). Center effects and week effects are fitted
on the untreated center-weeks only (centers never in the program, and centers
of later waves while they wait), each treated center-week's figure is compared
with what its center and week effects predict, and the estimate is the mean of
those differences over the treated center-weeks. Plain TWFE regression on all
cells would use already-treated centers as controls for later waves, which
biases it when the effect differs between waves or grows over time; this does
not. It assumes parallel trends (without the program, every center's figure
would have moved with the common week effects) and no anticipation (a center's
figure does not move before it enters the program).

The interval is a percentile bootstrap that resamples whole centers, so that a
center's weeks stay together (their errors are correlated); it is seeded, so
the same data and seed give the same interval. Everything is vectorized: the
week effects of every bootstrap replicate are one batched linear solve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from threadpoolctl import threadpool_limits

from direkte.evaluation.panel import BoolArray, FloatArray, Panel

Recommendation = Literal["go", "no_go", "insufficient_data"]

# Below these the data cannot support a number (an interval from a bootstrap over
# a handful of centers is not one): insufficient_data, and why.
MIN_TREATED_CENTERS = 5
MIN_CONTROL_CENTERS = 5
MIN_PRE_WEEKS = 4  # untreated weeks a treated center needs to estimate its own level
MIN_TREATED_WEEKS = 2  # distinct weeks with treated centers in them
PRE_TREND_WEEKS = 8  # event times shown before entry (and after it, in the event study)
MIN_BOOT = 99
_CHUNK = 128  # bootstrap replicates per batched solve
_OUTER_CELLS = 30_000_000  # centers x weeks x weeks: up to this, via the outer products

# Why the recommendation is what it is: a key and its values (``Evaluation.why``),
# worded here in English (``Evaluation.reason``, the API's) and by the web app in the
# page's language.
REASONS = {
    "worse": "the interval lies on the side of a worse figure: the program hurt it",
    "gates_worse": (
        "the figure improved, but gate figures got worse beyond their limit: {figures}"
    ),
    "better": "the interval lies on the side of a better figure, and no gate got worse",
    "includes_zero": "the interval includes zero: no effect can be told from noise",
    "few_treated_centers": (
        "{count} treated centers with at least {weeks} weeks before entry; "
        "at least {needed} are needed"
    ),
    "few_control_centers": (
        "{count} comparison centers (off while others were treated); at least {needed} are needed"
    ),
    "few_treated_weeks": (
        "{count} weeks with treated centers to compare; at least {needed} are needed"
    ),
    "few_replicates": "most bootstrap samples held no treated center: too few treated centers",
}
WhyValues = dict[str, int | tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Why:
    """Why the recommendation is what it is: a key of ``REASONS`` and its values (the
    gate figures that got worse are ``figures``, a tuple of their names)."""

    key: str
    values: WhyValues

    @property
    def text(self) -> str:
        """The reason in English."""
        shown = {k: ", ".join(v) if isinstance(v, tuple) else v for k, v in self.values.items()}
        return REASONS[self.key].format(**shown)


@dataclass(frozen=True, slots=True)
class EventTimeGap:
    """The mean gap between treated centers and what their center and week effects predict,
    ``event_time`` weeks from entry (negative: before it), over ``centers`` centers."""

    event_time: int
    gap: float
    centers: int


@dataclass(frozen=True, slots=True)
class Evaluation:
    method: str
    estimator: str
    estimate: float | None
    ci: tuple[float, float] | None
    level: float
    treated_centers: int
    control_centers: int
    weeks: int
    treated_weeks: int
    pre_trend: tuple[EventTimeGap, ...]
    post_trend: tuple[EventTimeGap, ...]
    recommendation: Recommendation
    why: Why | None
    n_boot: int
    seed: int

    @property
    def reason(self) -> str:
        """Why, in English ("" before anything was decided)."""
        return self.why.text if self.why is not None else ""


def evaluate(
    panel: Panel,
    *,
    seed: int = 0,
    n_boot: int = 999,
    level: float = 0.95,
    higher_is_better: bool = True,
    worse_gates: Sequence[str] = (),
    min_treated_centers: int = MIN_TREATED_CENTERS,
    min_control_centers: int = MIN_CONTROL_CENTERS,
    min_pre_weeks: int = MIN_PRE_WEEKS,
    min_treated_weeks: int = MIN_TREATED_WEEKS,
) -> Evaluation:
    """The program's effect on the panel's figure, its interval and the recommendation.

    ``worse_gates`` names the gate figures that got worse beyond their limit
    (the caller measures them); any makes a positive result ``no_go``.
    ``higher_is_better`` is False for figures where lower is better (escalation
    rate): the recommendation then asks the interval to lie below zero.
    """
    # One BLAS thread: the work is many small solves, and a threaded BLAS on a busy
    # machine (or inside a server's threads) spins on them, 20 times slower.
    with threadpool_limits(limits=1, user_api="blas"):
        return _evaluate(
            panel,
            seed=seed,
            n_boot=n_boot,
            level=level,
            higher_is_better=higher_is_better,
            worse_gates=worse_gates,
            min_treated_centers=min_treated_centers,
            min_control_centers=min_control_centers,
            min_pre_weeks=min_pre_weeks,
            min_treated_weeks=min_treated_weeks,
        )


def _evaluate(
    panel: Panel,
    *,
    seed: int,
    n_boot: int,
    level: float,
    higher_is_better: bool,
    worse_gates: Sequence[str],
    min_treated_centers: int,
    min_control_centers: int,
    min_pre_weeks: int,
    min_treated_weeks: int,
) -> Evaluation:
    if not 0 < level < 1:
        raise ValueError("level must lie between 0 and 1")
    if n_boot < MIN_BOOT:
        raise ValueError(f"n_boot must be at least {MIN_BOOT}: a percentile interval needs them")
    design = _Design.of(panel, min_pre_weeks)
    pre, post = _event_gaps(panel, design)
    base = Evaluation(
        method="difference_in_differences",
        estimator="two_way_fixed_effects_imputation",
        estimate=None,
        ci=None,
        level=level,
        treated_centers=design.treated_centers,
        control_centers=design.control_centers,
        weeks=len(panel.weeks),
        treated_weeks=design.treated_weeks,
        pre_trend=pre,
        post_trend=post,
        recommendation="insufficient_data",
        why=None,
        n_boot=n_boot,
        seed=seed,
    )
    short = _shortfall(
        design,
        min_treated_centers=min_treated_centers,
        min_control_centers=min_control_centers,
        min_pre_weeks=min_pre_weeks,
        min_treated_weeks=min_treated_weeks,
    )
    if short is not None:
        return replace(base, why=short)
    estimate = float(design.fit(np.ones((1, design.n_centers)))[0])
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(
        design.n_centers, np.full(design.n_centers, 1 / design.n_centers), size=n_boot
    ).astype(np.float64)
    replicates = np.concatenate(
        [design.fit(draws[i : i + _CHUNK]) for i in range(0, n_boot, _CHUNK)]
    )
    replicates = replicates[np.isfinite(replicates)]
    if replicates.size < max(2, n_boot // 2):
        return replace(base, why=Why("few_replicates", {}))
    alpha = (1 - level) / 2
    lo, hi = (float(q) for q in np.quantile(replicates, [alpha, 1 - alpha]))
    recommendation, why = _recommend(lo, hi, higher_is_better, worse_gates)
    return replace(base, estimate=estimate, ci=(lo, hi), recommendation=recommendation, why=why)


def _recommend(
    lo: float, hi: float, higher_is_better: bool, worse_gates: Sequence[str]
) -> tuple[Recommendation, Why]:
    better = lo > 0 if higher_is_better else hi < 0
    worse = hi < 0 if higher_is_better else lo > 0
    if worse:
        return "no_go", Why("worse", {})
    if better and worse_gates:
        return "no_go", Why("gates_worse", {"figures": tuple(worse_gates)})
    if better:
        return "go", Why("better", {})
    return "insufficient_data", Why("includes_zero", {})


def _shortfall(
    design: _Design,
    *,
    min_treated_centers: int,
    min_control_centers: int,
    min_pre_weeks: int,
    min_treated_weeks: int,
) -> Why | None:
    if design.treated_centers < min_treated_centers:
        return Why(
            "few_treated_centers",
            {
                "count": design.treated_centers,
                "weeks": min_pre_weeks,
                "needed": min_treated_centers,
            },
        )
    if design.control_centers < min_control_centers:
        return Why(
            "few_control_centers",
            {"count": design.control_centers, "needed": min_control_centers},
        )
    if design.treated_weeks < min_treated_weeks:
        return Why(
            "few_treated_weeks", {"count": design.treated_weeks, "needed": min_treated_weeks}
        )
    return None


@dataclass(frozen=True, slots=True, eq=False)
class _Design:
    """The cells the fit uses: untreated (``untreated``) and treated to impute (``treated``)."""

    values: FloatArray  # nan replaced by 0 where unused
    untreated: FloatArray  # 1.0: observed, never yet treated
    treated: FloatArray  # 1.0: observed, treated, imputable
    entry: FloatArray  # first treated week index per center, nan for never treated
    treated_centers: int
    control_centers: int
    treated_weeks: int

    @property
    def n_centers(self) -> int:
        return int(self.values.shape[0])

    @classmethod
    def of(cls, panel: Panel, min_pre_weeks: int) -> _Design:
        observed = np.isfinite(panel.values)
        ever: BoolArray = np.logical_or.accumulate(panel.treated, axis=1)
        # A center that left the program is not clean afterwards: once treated, never a control.
        untreated = observed & ~ever
        has_pre = untreated.sum(axis=1) >= min_pre_weeks
        week_has_controls: BoolArray = np.asarray(untreated.any(axis=0))
        treated = observed & panel.treated & has_pre[:, None] & week_has_controls[None, :]
        treated_weeks: BoolArray = np.asarray(treated.any(axis=0))
        controls = (untreated & treated_weeks[None, :]).any(axis=1)
        first = (
            np.where(panel.treated.any(axis=1), panel.treated.argmax(axis=1), -1)
            if panel.treated.shape[1]
            else np.full(panel.treated.shape[0], -1)
        )
        entry = np.where(first >= 0, first.astype(np.float64), np.nan)
        return cls(
            values=np.where(observed, panel.values, 0.0),
            untreated=untreated.astype(np.float64),
            treated=treated.astype(np.float64),
            entry=entry,
            treated_centers=int(treated.any(axis=1).sum()),
            control_centers=int(controls.sum()),
            treated_weeks=int(treated_weeks.sum()),
        )

    def effects(self, weights: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Center effects (B x C), week effects (B x W) fitted on the untreated cells with
        the centers weighted by ``weights`` (B x C: bootstrap counts), and the weeks whose
        effect the untreated cells identify (B x W, 1.0 or 0.0)."""
        u, y = self.untreated, self.values
        n = u.sum(axis=1)
        inv_n = np.divide(1.0, n, out=np.zeros_like(n), where=n > 0)
        mean = (u * y).sum(axis=1) * inv_n
        r = weights @ (u * (y - mean[:, None]))  # B x W
        m = weights @ u  # B x W: weighted untreated cells per week
        g = weights * inv_n  # B x C
        # Normal equations for the week effects once the center effects are concentrated
        # out: (diag(m) - U' diag(g) U) b = r; the system fixes b only up to a constant,
        # so add (1/W) 11' (sum of b = 0), and pin weeks without untreated cells to 0.
        # U' diag(g) U for every replicate at once: one product with the centers' outer
        # products (one large BLAS call; a batch of small ones stalls on a busy machine).
        weeks = u.shape[1]
        if u.shape[0] * weeks * weeks <= _OUTER_CELLS:
            outer = (u[:, :, None] * u[:, None, :]).reshape(u.shape[0], weeks * weeks)
            a_mat = -(g @ outer).reshape(-1, weeks, weeks)
        else:  # long windows: the outer products would not fit; a batch of products
            a_mat = -np.matmul(u.T[None, :, :] * g[:, None, :], u[None, :, :])
        idx = np.arange(weeks)
        identified = (m > 0).astype(np.float64)
        a_mat[:, idx, idx] += np.where(m > 0, m, 1.0)
        a_mat += 1.0 / weeks
        try:
            b = np.linalg.solve(a_mat, r[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # disconnected weeks and centers: least squares
            b = np.matmul(np.linalg.pinv(a_mat), r[:, :, None])[:, :, 0]
        a = mean[None, :] - (b @ u.T) * inv_n[None, :]
        return a, b, identified

    def fit(self, weights: FloatArray) -> FloatArray:
        """The mean imputed effect over the treated cells, one per row of ``weights``."""
        a, b, identified = self.effects(weights)
        t = self.treated
        ty = weights @ (t * self.values)  # B x W
        ta = (weights * a) @ t  # B x W
        tn = weights @ t  # B x W
        numerator = (identified * (ty - ta - b * tn)).sum(axis=1)
        denominator = (identified * tn).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out: FloatArray = np.where(denominator > 0, numerator / denominator, np.nan)
        return out


def _event_gaps(
    panel: Panel, design: _Design
) -> tuple[tuple[EventTimeGap, ...], tuple[EventTimeGap, ...]]:
    """Before entry: the treated centers' residuals from the untreated fit, by weeks to
    entry (flat near zero under parallel trends). From entry on: the imputed effects."""
    if design.treated_centers == 0:
        return (), ()
    a, b, _ = design.effects(np.ones((1, design.n_centers)))
    residual = design.values - a[0][:, None] - b[0][None, :]
    weeks = panel.values.shape[1]
    event = np.arange(weeks)[None, :] - design.entry[:, None]  # nan for never treated
    usable: BoolArray = np.asarray(design.treated.any(axis=1))[:, None]
    pre_cells = (design.untreated > 0) & usable & np.isfinite(event) & (event < 0)
    post_cells = design.treated > 0
    return (
        _by_event(residual, event, pre_cells, range(-PRE_TREND_WEEKS, 0)),
        _by_event(residual, event, post_cells, range(PRE_TREND_WEEKS + 1)),
    )


def _by_event(
    residual: FloatArray, event: FloatArray, cells: BoolArray, times: range
) -> tuple[EventTimeGap, ...]:
    out = []
    for k in times:
        at = cells & (event == k)
        count = int(at.sum())
        if count:
            out.append(EventTimeGap(k, float(residual[at].mean()), count))
    return tuple(out)
