"""Backtests: a candidate policy over the recorded requests, beside the current one.

Each recorded request (kind ``create``) is decided again from the facts stored
with it, as they were at the time, at its own time, under the policy merged for
its center's region. Nothing is written.

The report counts the requests the candidate would hold for moderation that the
current policy did not, and those it would release (its ``content`` part). With
``rescreen``, the candidate also gets the running content screen: a request whose
facts an earlier screen recorded (``content_screen`` other than ``SCREEN_VERSION``)
has its text screened again for the candidate, once per distinct text, while the
current policy keeps what was recorded; so ops see what a new screen would hold
before it decides anything.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from direkte.errors import InvalidField
from direkte.escalations.models import Escalation, EscalationRequest, Outcome
from direkte.guardrails.content import SCREEN_VERSION, screen_phrases
from direkte.guardrails.engine import Decision, Facts, evaluate
from direkte.guardrails.policy import Policy, policy_for, validate_document
from direkte.loop import let_others_run
from direkte.network.models import Center, Region
from direkte.policy.service import InvalidPolicy, current_policy

CANDIDATE_VERSION = "candidate"
RIGHT = (Outcome.revised.value, Outcome.goodwill.value)
NOTES = (
    "Each request is decided again from the facts recorded with it, at its own time.",
    "A folded request counts by the tier of the case it folded into, as recorded; "
    "it adds no case to a manager's load and is not counted as deflected.",
    "Deflected: not sent to a manager (reject, moderate, or tier 0). Right: the case "
    "the request made ended revised or goodwill.",
    "Load: routed tier 1-2 requests per manager per local day, over manager-days with "
    "at least one; p95 by nearest rank.",
    "Content: held, moderated under the candidate and not the current policy; released, "
    "the reverse. With rescreen, the candidate screens the text of requests an earlier "
    f"screen recorded again (screen {SCREEN_VERSION}); erased texts keep their facts.",
)
ERASED_TEXT = "[erased]"  # privacy.service.ERASED_TEXT (a layer apart; a test checks)
_CHUNK = 2000
# Rows between two turns of the event loop (a request's backtest runs on it on
# PostgreSQL, direkte.loop): about 50-100 µs of CPU a row, so a turn every few ms.
_TURN = 64


@dataclass(frozen=True, slots=True)
class Load:
    """Cases routed to managers per manager per day (days with at least one)."""

    managers: int
    manager_days: int
    mean: float
    p95: float
    unassigned: int  # routed to tier 1-2 with nobody named in the facts


@dataclass(frozen=True, slots=True)
class PolicyFigures:
    policy_version: str
    requests: int
    decisions: dict[str, int]
    tiers: dict[str, int]  # routed requests by tier, folds by their case's tier
    folded: int
    reached: int
    reach_share: float
    load: Load
    deflected: int
    deflected_right: int
    deflected_right_share: float  # of deflected requests
    deflected_right_by_outcome: dict[str, int]


@dataclass(frozen=True, slots=True)
class Difference:
    """Candidate minus current."""

    reached: int
    reach_share: float
    load_mean: float
    load_p95: float
    managers: int
    deflected: int
    deflected_right: int
    newly_deflected: int  # reached a manager under the current policy, not the candidate
    newly_reached: int
    newly_deflected_right: int


@dataclass(frozen=True, slots=True)
class ContentChange:
    """What the candidate's content screening changes: requests held and released."""

    screen: str  # the running screen's version (the candidate's, with rescreen)
    rescreen: bool  # whether the candidate screened earlier screens' texts again
    rescreened: int  # requests recorded by an earlier screen, screened again
    held: int  # moderated under the candidate, not under the current policy
    released: int  # moderated under the current policy, not under the candidate


@dataclass(frozen=True, slots=True)
class BacktestReport:
    date_from: datetime
    date_to: datetime
    requests: int
    with_outcome: int
    current: PolicyFigures
    candidate: PolicyFigures
    difference: Difference
    content: ContentChange
    notes: tuple[str, ...] = NOTES


@dataclass(frozen=True, slots=True)
class Row:
    """One recorded request as the backtest reads it."""

    created_at: datetime
    facts: dict[str, Any]
    region: str | None
    time_zone: str
    outcome: str | None
    reason: str = ""  # what the customer wrote, for screening again


@dataclass(slots=True)
class _Tally:
    """Running figures for one policy."""

    version: str
    requests: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)
    folded: int = 0
    reached: int = 0
    deflected: int = 0
    right: Counter[str] = field(default_factory=Counter)
    per_day: Counter[tuple[int, date]] = field(default_factory=Counter)
    unassigned: int = 0

    def add(self, decision: Decision, row: Row, local_day: date) -> bool:
        """Count one decision; return whether it reached a manager."""
        self.requests += 1
        self.decisions[decision.decision] += 1
        folded = decision.folded_into is not None
        reached = decision.decision == "route" and decision.tier in (1, 2)
        if decision.decision == "route":
            self.tiers[str(decision.tier)] += 1
        if folded:
            self.folded += 1
        if reached:
            self.reached += 1
            if not folded:
                if decision.assignee_id is None:
                    self.unassigned += 1
                else:
                    self.per_day[decision.assignee_id, local_day] += 1
        elif not folded:
            self.deflected += 1
            if row.outcome in RIGHT:
                self.right[row.outcome] += 1
        return reached

    def figures(self) -> PolicyFigures:
        right = sum(self.right.values())
        return PolicyFigures(
            policy_version=self.version,
            requests=self.requests,
            decisions={k: self.decisions[k] for k in ("route", "reject", "moderate")},
            tiers={k: self.tiers[k] for k in ("0", "1", "2")},
            folded=self.folded,
            reached=self.reached,
            reach_share=_share(self.reached, self.requests),
            load=_load(self.per_day, self.unassigned),
            deflected=self.deflected,
            deflected_right=right,
            deflected_right_share=_share(right, self.deflected),
            deflected_right_by_outcome={k: self.right[k] for k in RIGHT},
        )


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _load(per_day: Counter[tuple[int, date]], unassigned: int) -> Load:
    counts = sorted(per_day.values())
    if not counts:
        return Load(0, 0, 0.0, 0.0, unassigned)
    rank = max(math.ceil(0.95 * len(counts)), 1)
    return Load(
        managers=len({manager for manager, _ in per_day}),
        manager_days=len(counts),
        mean=round(sum(counts) / len(counts), 2),
        p95=float(counts[rank - 1]),
        unassigned=unassigned,
    )


def read_rows(session: Session, date_from: datetime, date_to: datetime) -> Iterable[Row]:
    """Stream the recorded ``create`` requests in [from, to) with their case's outcome."""
    places = {
        center_id: (region, time_zone)
        for center_id, region, time_zone in session.execute(
            sa.select(Center.id, Region.code, Center.time_zone).join(
                Region, Region.id == Center.region_id
            )
        )
    }
    query = (
        sa.select(
            EscalationRequest.created_at,
            EscalationRequest.facts,
            EscalationRequest.center_id,
            Escalation.outcome,
            EscalationRequest.reason,
        )
        .outerjoin(Escalation, Escalation.id == EscalationRequest.escalation_id)
        .where(
            EscalationRequest.kind == "create",
            EscalationRequest.created_at >= date_from,
            EscalationRequest.created_at < date_to,
        )
    )
    # Core rather than ORM rows, on a server-side cursor: 100k rows without holding them.
    # (Options on the statement: on the connection they would stay for later statements.)
    result = session.connection().execute(
        query.execution_options(stream_results=True, max_row_buffer=_CHUNK)
    )
    for part in result.partitions(_CHUNK):
        for created_at, facts, center_id, outcome, reason in part:
            region, time_zone = places[center_id]
            yield Row(
                created_at, facts, region, time_zone, outcome.value if outcome else None, reason
            )


class _Policies:
    """A document's policy per region, merged once."""

    def __init__(self, document: dict[str, Any], version: str) -> None:
        self.document = document
        self.version = version
        self.by_region: dict[str | None, Policy] = {}

    def get(self, region: str | None) -> Policy:
        found = self.by_region.get(region)
        if found is None:
            found = self.by_region[region] = policy_for(self.document, self.version, region)
        return found


def compare(
    rows: Iterable[Row],
    *,
    candidate_document: dict[str, Any],
    current_document: dict[str, Any],
    current_version: str,
    date_from: datetime,
    date_to: datetime,
    rescreen: bool = False,
) -> BacktestReport:
    """Decide every row under both policies and gather the side-by-side figures."""
    policies = (
        _Policies(current_document, current_version),
        _Policies(candidate_document, CANDIDATE_VERSION),
    )
    tallies = (_Tally(current_version), _Tally(CANDIDATE_VERSION))
    (now_policies, then_policies), (now_tally, then_tally) = policies, tallies
    zones: dict[str, ZoneInfo] = {}
    moved = Counter[str]()
    total = with_outcome = 0
    screened = _Rescreen(rescreen)
    for row in rows:
        total += 1
        if not total % _TURN:
            let_others_run()
        with_outcome += row.outcome is not None
        facts = Facts.from_json(row.facts)
        zone = zones.get(row.time_zone) or zones.setdefault(row.time_zone, ZoneInfo(row.time_zone))
        day = row.created_at.astimezone(zone).date()
        at, region = row.created_at, row.region
        now = evaluate(now_policies.get(region), facts, at)
        then = evaluate(then_policies.get(region), screened(facts, row.reason), at)
        now_reached = now_tally.add(now, row, day)
        then_reached = then_tally.add(then, row, day)
        if (now.decision == "moderate") != (then.decision == "moderate"):
            moved["held" if then.decision == "moderate" else "released"] += 1
        if now_reached != then_reached:
            moved["reached" if then_reached else "deflected"] += 1
            if now_reached and row.outcome in RIGHT:
                moved["deflected_right"] += 1
    current, candidate = (t.figures() for t in tallies)
    return BacktestReport(
        date_from=date_from,
        date_to=date_to,
        requests=total,
        with_outcome=with_outcome,
        current=current,
        candidate=candidate,
        difference=_difference(current, candidate, moved),
        content=ContentChange(
            SCREEN_VERSION, rescreen, screened.count, moved["held"], moved["released"]
        ),
    )


class _Rescreen:
    """The facts a request would have under the running screen: as recorded when this
    screen recorded them (or the text is erased), else with the text screened again
    (once per distinct text)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.count = 0
        self.seen: dict[str, tuple[bool, bool, tuple[str, ...], tuple[str, ...]]] = {}

    def __call__(self, facts: Facts, text: str) -> Facts:
        if not self.enabled or facts.content_screen == SCREEN_VERSION or text == ERASED_TEXT:
            return facts
        self.count += 1
        found = self.seen.get(text)
        if found is None:
            screened = screen_phrases(text)
            found = (screened.threat, screened.abuse, screened.matches, screened.categories)
            self.seen[text] = found
        threat, abuse, matches, categories = found
        if not (threat or abuse or facts.threat or facts.abuse):
            return facts  # nothing held either way: the recorded facts decide the same
        return replace(
            facts,
            threat=threat,
            abuse=abuse,
            content_matches=matches,
            content_categories=categories,
            content_screen=SCREEN_VERSION,
        )


def _difference(
    current: PolicyFigures, candidate: PolicyFigures, moved: Counter[str]
) -> Difference:
    return Difference(
        reached=candidate.reached - current.reached,
        reach_share=round(candidate.reach_share - current.reach_share, 4),
        load_mean=round(candidate.load.mean - current.load.mean, 2),
        load_p95=round(candidate.load.p95 - current.load.p95, 2),
        managers=candidate.load.managers - current.load.managers,
        deflected=candidate.deflected - current.deflected,
        deflected_right=candidate.deflected_right - current.deflected_right,
        newly_deflected=moved["deflected"],
        newly_reached=moved["reached"],
        newly_deflected_right=moved["deflected_right"],
    )


def run_backtest(
    session: Session,
    *,
    candidate_document: dict[str, Any],
    current_document: dict[str, Any],
    current_version: str,
    date_from: datetime,
    date_to: datetime,
    rescreen: bool = False,
) -> BacktestReport:
    """Backtest a (valid, normalized) candidate document against the current one. Reads only."""
    return compare(
        read_rows(session, date_from, date_to),
        candidate_document=candidate_document,
        current_document=current_document,
        current_version=current_version,
        date_from=date_from,
        date_to=date_to,
        rescreen=rescreen,
    )


def backtest_policy(
    session: Session,
    *,
    document: Any,
    date_from: datetime,
    date_to: datetime,
    rescreen: bool = False,
) -> BacktestReport:
    """Backtest ``document`` against the current policy over [from, to); with
    ``rescreen``, under the running content screen (see the module).

    Raises InvalidPolicy (every problem by path), InvalidField (``to`` not after ``from``).
    """
    normalized, problems = validate_document(document)
    if problems:
        raise InvalidPolicy(f"{len(problems)} problem(s) in the policy document", problems)
    if date_from >= date_to:
        raise InvalidField("to", "must be later than from")
    current = current_policy(session)
    return run_backtest(
        session,
        candidate_document=normalized,
        current_document=current.document,
        current_version=str(current.version),
        date_from=date_from,
        date_to=date_to,
        rescreen=rescreen,
    )


def report_lines(report: BacktestReport) -> list[str]:
    """The report as a side-by-side text table."""
    now, then, diff = report.current, report.candidate, report.difference
    rows: list[tuple[str, object, object, str]] = [
        ("requests", now.requests, then.requests, ""),
        *((f"  {k}", now.decisions[k], then.decisions[k], "") for k in now.decisions),
        *((f"  routed tier {k}", now.tiers[k], then.tiers[k], "") for k in now.tiers),
        ("  folded", now.folded, then.folded, ""),
        ("reached managers", now.reached, then.reached, f"{diff.reached:+d}"),
        (
            "reach share",
            f"{now.reach_share:.2%}",
            f"{then.reach_share:.2%}",
            f"{diff.reach_share * 100:+.2f} pt",
        ),
        ("managers", now.load.managers, then.load.managers, f"{diff.managers:+d}"),
        ("load/manager/day mean", now.load.mean, then.load.mean, f"{diff.load_mean:+.2f}"),
        ("load/manager/day p95", now.load.p95, then.load.p95, f"{diff.load_p95:+.2f}"),
        ("deflected", now.deflected, then.deflected, f"{diff.deflected:+d}"),
        (
            "deflected, right",
            now.deflected_right,
            then.deflected_right,
            f"{diff.deflected_right:+d}",
        ),
        (
            "  share of deflected",
            f"{now.deflected_right_share:.2%}",
            f"{then.deflected_right_share:.2%}",
            "",
        ),
        *(
            (f"  {k}", now.deflected_right_by_outcome[k], then.deflected_right_by_outcome[k], "")
            for k in RIGHT
        ),
    ]
    return [
        f"backtest {report.date_from.isoformat()} .. {report.date_to.isoformat()}: "
        f"{report.requests} request(s), {report.with_outcome} with an outcome",
        f"{'':<24} {'current v' + now.policy_version:>14} {'candidate':>14} {'change':>12}",
        *(f"{label:<24} {a!s:>14} {b!s:>14} {c:>12}" for label, a, b, c in rows),
        f"newly deflected {diff.newly_deflected} (of them right {diff.newly_deflected_right}), "
        f"newly reached {diff.newly_reached}",
        f"content: the candidate holds {report.content.held} more, releases "
        f"{report.content.released}"
        + (
            f"; screen {report.content.screen}, {report.content.rescreened} request(s) "
            "recorded by an earlier screen screened again"
            if report.content.rescreen
            else ""
        ),
        *(f"note: {note}" for note in report.notes),
    ]
