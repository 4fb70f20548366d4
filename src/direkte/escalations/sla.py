"""SLA due times for a case, counted in its center's business hours."""

from __future__ import annotations

from datetime import datetime, timedelta

from direkte.escalations.models import Escalation
from direkte.guardrails.policy import Policy
from direkte.network.hours import (
    OpeningHours,
    add_business_time,
    business_time_between,
    close_of_business_day,
    opening_hours,
)
from direkte.network.models import Center


def hours_of(center: Center) -> OpeningHours:
    return opening_hours(
        center.time_zone, center.country, center.business_hours, center.closed_dates
    )


def start_clock(case: Escalation, hours: OpeningHours, policy: Policy, now: datetime) -> None:
    """Set the tier's targets from ``now``; the clock runs."""
    target = policy.sla_for(case.tier)
    first = add_business_time(hours, now, timedelta(hours=target.first_response_hours))
    if target.resolution_hours is None:
        resolution = close_of_business_day(hours, first)
    else:
        resolution = add_business_time(hours, now, timedelta(hours=target.resolution_hours))
    case.first_response_due = first
    case.resolution_due = resolution
    case.first_response_at = None
    case.sla_paused_at = None
    case.sla_next_due = first


def record_first_response(case: Escalation, now: datetime) -> None:
    if case.first_response_at is None:
        case.first_response_at = now
        if case.sla_paused_at is None:
            case.sla_next_due = case.resolution_due


def pause_clock(case: Escalation, now: datetime) -> None:
    """Stop the clock while staff wait on the customer."""
    if case.sla_paused_at is None:
        case.sla_paused_at = now
        case.sla_next_due = None


def resume_clock(case: Escalation, hours: OpeningHours, now: datetime) -> None:
    """Restart the clock: unmet targets move on by the business time spent paused."""
    paused = case.sla_paused_at
    if paused is None:
        return

    def shifted(due: datetime | None) -> datetime | None:
        if due is None or due <= paused:
            return due
        return add_business_time(hours, now, business_time_between(hours, paused, due))

    if case.first_response_at is None:
        case.first_response_due = shifted(case.first_response_due)
    case.resolution_due = shifted(case.resolution_due)
    case.sla_paused_at = None
    case.sla_next_due = (
        case.first_response_due if case.first_response_at is None else case.resolution_due
    )


def stop_clock(case: Escalation) -> None:
    case.sla_next_due = None
    case.sla_paused_at = None


def breached_target(case: Escalation, now: datetime) -> str | None:
    """Which target the case has missed at ``now``, if any."""
    if case.sla_paused_at is not None:
        return None
    if (
        case.first_response_at is None
        and case.first_response_due
        and case.first_response_due <= now
    ):
        return "first_response"
    if case.resolution_due and case.resolution_due <= now:
        return "resolution"
    return None
