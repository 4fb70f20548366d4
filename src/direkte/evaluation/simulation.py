"""A simulated network history with a known program effect, to check evaluations against.

Centers in five countries, each with its own level of same-day resolution and
escalations and its own volume; weekly seasonality (Saturdays short, Sundays
closed), a yearly season, the country's public holidays (closed, and the day
before a holiday resolves less), week-to-week noise of each center, and a
staggered rollout: waves of centers enter the program (``pilot``, then ``on``
eight weeks later) on Mondays, the rest stay ``off``. In the program a
visit's chance of same-day resolution rises by ``effect`` and its escalation
requests change by ``escalation_effect`` per 100 visits: the truths an
evaluation should recover. Pure numpy: the day counts go straight to a
:class:`Panel`, or to ``direkte simulate`` which writes them out as visits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np
import numpy.typing as npt

from direkte.evaluation.panel import Panel

IntArray = npt.NDArray[np.int64]

OFF, PILOT, ON = 0, 1, 2
PROGRAMS = ("off", "pilot", "on")
PILOT_WEEKS = 8  # a wave's centers go from pilot to on after this many weeks
# Country, IANA time zone, currency: the places a simulated center can be.
COUNTRIES = (
    ("NO", "Europe/Oslo", "NOK"),
    ("SE", "Europe/Stockholm", "SEK"),
    ("DK", "Europe/Copenhagen", "DKK"),
    ("FI", "Europe/Helsinki", "EUR"),
    ("DE", "Europe/Berlin", "EUR"),
)
# Share of a week's visits by weekday (Mon..Sun): Saturdays short, Sundays closed.
_WEEKDAY_VOLUME = np.array([1.15, 1.05, 1.0, 1.0, 0.95, 0.35, 0.0])
_WEEKDAY_LEVEL = np.array([-0.02, 0.0, 0.01, 0.01, -0.01, 0.05, 0.0])
_HOLIDAY_EVE = -0.08  # the working day before a public holiday resolves less


@dataclass(frozen=True, slots=True)
class SimulatedCenter:
    code: str
    country: str
    time_zone: str
    currency: str
    wave: int | None  # None: stays off
    level: float  # its own chance of same-day resolution, before everything else
    escalation_rate: float  # its own escalation requests per visit


@dataclass(frozen=True, slots=True)
class ProgramChange:
    center: int  # index into centers
    day: int  # index into days; the change happens at the start of that local day
    program: str


@dataclass(frozen=True, slots=True, eq=False)
class NetworkHistory:
    """Daily counts per center (centers x days) and the program each center was in."""

    start: date  # a Monday
    centers: tuple[SimulatedCenter, ...]
    visits: IntArray
    same_day: IntArray
    escalations: IntArray
    program: npt.NDArray[np.int8]
    changes: tuple[ProgramChange, ...]
    effect: float
    escalation_effect: float

    @property
    def days(self) -> int:
        return int(self.visits.shape[1])

    def day(self, index: int) -> date:
        return self.start + timedelta(days=index)

    def panel(self, figure: str = "same_day_resolution") -> Panel:
        """The weekly panel of ``same_day_resolution`` (share of visits) or
        ``escalation_rate`` (requests per 100 visits); nan where a week had no visits."""
        weeks = self.days // 7
        shape = (len(self.centers), weeks, 7)
        visits = self.visits[:, : weeks * 7].reshape(shape).sum(axis=2)
        if figure == "same_day_resolution":
            hits = self.same_day[:, : weeks * 7].reshape(shape).sum(axis=2)
            scale = 1.0
        elif figure == "escalation_rate":
            hits = self.escalations[:, : weeks * 7].reshape(shape).sum(axis=2)
            scale = 100.0
        else:
            raise ValueError(f"unknown figure {figure!r}")
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(visits > 0, scale * hits / np.maximum(visits, 1), np.nan)
        treated = self.program[:, : weeks * 7 : 7] != OFF
        return Panel(
            centers=tuple(c.code for c in self.centers),
            weeks=tuple(self.day(7 * w) for w in range(weeks)),
            values=values,
            treated=treated,
        )


def simulate(
    *,
    centers: int = 40,
    weeks: int = 52,
    visits: int | None = None,
    effect: float = 0.05,
    escalation_effect: float = -1.0,
    seed: int = 0,
    waves: int = 4,
    control_share: float = 0.4,
    start: date | None = None,
    code_prefix: str = "SIM",
) -> NetworkHistory:
    """A network of ``centers`` over ``weeks`` weeks with exactly ``visits`` visits
    (default: about 60 a center a week), the program raising same-day resolution by
    ``effect`` (a share: 0.05 is five points) and escalations by ``escalation_effect``
    per 100 visits."""
    if centers < 1 or weeks < 1:
        raise ValueError("centers and weeks must be at least 1")
    if not -0.3 <= effect <= 0.3:
        raise ValueError("effect must lie between -0.3 and 0.3 (a share of visits)")
    if not 0 <= control_share <= 1:
        raise ValueError("control_share must lie between 0 and 1")
    rng = np.random.default_rng(seed)
    days = weeks * 7
    if start is None:
        start = date(2025, 1, 6)
    start = start - timedelta(days=start.weekday())
    total = centers * weeks * 60 if visits is None else visits
    if total < 0:
        raise ValueError("visits must not be negative")

    network = _centers(rng, centers, waves, control_share, code_prefix)
    program, changes = _rollout(network, weeks, waves)
    day_index = np.arange(days)
    weekday = (day_index + start.weekday()) % 7
    season = np.cos(2 * np.pi * (day_index + start.timetuple().tm_yday - 15) / 365.25)
    closed, eve = _holidays(network, start, days)

    volume = rng.lognormal(0.0, 0.35, size=centers)
    rate = volume[:, None] * _WEEKDAY_VOLUME[weekday][None, :] * (1 + 0.15 * season)[None, :]
    rate = np.where(closed, 0.0, rate)
    counts = _exact_counts(rng, rate, total)

    shocks = _weekly_shocks(rng, centers, weeks)
    level = np.array([c.level for c in network])
    treated = program != OFF
    chance = (
        level[:, None]
        + _WEEKDAY_LEVEL[weekday][None, :]
        - 0.03 * season[None, :]
        + _HOLIDAY_EVE * eve
        + np.repeat(shocks, 7, axis=1)
        + effect * treated
    )
    same_day = rng.binomial(counts, np.clip(chance, 0.01, 0.99))
    escalation_chance = (
        np.array([c.escalation_rate for c in network])[:, None]
        + (escalation_effect / 100.0) * treated
    )
    escalations = rng.binomial(counts, np.clip(escalation_chance, 0.0, 0.5))
    return NetworkHistory(
        start=start,
        centers=network,
        visits=counts,
        same_day=same_day.astype(np.int64),
        escalations=escalations.astype(np.int64),
        program=program,
        changes=changes,
        effect=effect,
        escalation_effect=escalation_effect,
    )


def _centers(
    rng: np.random.Generator, count: int, waves: int, control_share: float, prefix: str
) -> tuple[SimulatedCenter, ...]:
    in_program = round(count * (1 - control_share))
    order = rng.permutation(count)
    wave_of: dict[int, int | None] = {int(i): None for i in order[in_program:]}
    for rank, i in enumerate(order[:in_program]):
        wave_of[int(i)] = rank * max(waves, 1) // max(in_program, 1)
    out = []
    for i in range(count):
        country, zone, currency = COUNTRIES[int(rng.integers(len(COUNTRIES)))]
        out.append(
            SimulatedCenter(
                code=f"{prefix}-{i + 1:04d}",
                country=country,
                time_zone=zone,
                currency=currency,
                wave=wave_of[i],
                level=float(rng.uniform(0.48, 0.70)),
                escalation_rate=float(rng.uniform(0.02, 0.05)),
            )
        )
    return tuple(out)


def wave_weeks(weeks: int, waves: int) -> list[int]:
    """The week each wave enters: spread over the middle of the history, so that every
    wave has weeks before it (to fit its centers' levels) and after it."""
    first, last = round(weeks * 0.35), round(weeks * 0.75)
    if waves <= 1:
        return [first]
    return [first + (last - first) * k // (waves - 1) for k in range(waves)]


def _rollout(
    network: tuple[SimulatedCenter, ...], weeks: int, waves: int
) -> tuple[npt.NDArray[np.int8], tuple[ProgramChange, ...]]:
    days = weeks * 7
    program = np.zeros((len(network), days), dtype=np.int8)
    changes = [ProgramChange(i, 0, "off") for i in range(len(network))]
    entries = wave_weeks(weeks, waves)
    for i, center in enumerate(network):
        if center.wave is None:
            continue
        pilot = entries[center.wave] * 7
        on = pilot + PILOT_WEEKS * 7
        program[i, pilot:] = PILOT
        changes.append(ProgramChange(i, pilot, "pilot"))
        if on < days:
            program[i, on:] = ON
            changes.append(ProgramChange(i, on, "on"))
    return program, tuple(sorted(changes, key=lambda c: (c.day, c.center)))


def _holidays(
    network: tuple[SimulatedCenter, ...], start: date, days: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]:
    """Closed days (public holidays) and the working days before one, per center."""
    years = list(range(start.year, (start + timedelta(days=days)).year + 1))
    by_country: dict[str, tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]] = {}
    for country in {c.country for c in network}:
        closed = np.zeros(days, dtype=np.bool_)
        for day in holidays.country_holidays(country, years=years):
            index = (day - start).days
            if 0 <= index < days:
                closed[index] = True
        eve = np.zeros(days, dtype=np.float64)
        eve[:-1] = closed[1:] & ~closed[:-1]
        by_country[country] = (closed, eve)
    return (
        np.array([by_country[c.country][0] for c in network]),
        np.array([by_country[c.country][1] for c in network]),
    )


def _exact_counts(rng: np.random.Generator, rate: npt.NDArray[np.float64], total: int) -> IntArray:
    """Visits per center and day summing to exactly ``total``, in proportion to ``rate``."""
    flat = rate.ravel()
    weight = flat.sum()
    if total == 0 or weight == 0:
        return np.zeros(rate.shape, dtype=np.int64)
    counts: IntArray = rng.multinomial(total, flat / weight).astype(np.int64)
    return counts.reshape(rate.shape)


def _weekly_shocks(rng: np.random.Generator, centers: int, weeks: int) -> npt.NDArray[np.float64]:
    """Each center's week-to-week drift in resolution: AR(1), rho 0.5, sd 0.02."""
    rho, sd = 0.5, 0.02
    noise = rng.normal(0.0, sd * np.sqrt(1 - rho**2), size=(centers, weeks))
    out = np.empty((centers, weeks))
    out[:, 0] = rng.normal(0.0, sd, size=centers)
    for w in range(1, weeks):
        out[:, w] = rho * out[:, w - 1] + noise[:, w]
    return out
