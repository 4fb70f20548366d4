"""Use cases on escalations, one file per seam, behind the one import the routes use.

``kernel`` records changes (transitions, timeline, audit, outbox) for every use
case; ``opening``, ``staff_actions``, ``customer_actions``, ``moderation``,
``inbox`` and ``sweep`` are the use cases. Who may do what is decided by
``direkte.access``.
"""

from direkte.escalations.customer_actions import (
    Appealed,
    AppealPreview,
    appeal_escalation,
    appeal_refusal,
    preview_appeal,
    rate_escalation,
    withdraw_escalation,
)
from direkte.escalations.inbox import (
    InboxEntry,
    ManagerLoad,
    get_case_entry,
    list_inbox,
    list_manager_load,
)
from direkte.escalations.inbox_sql import inbox_items_json
from direkte.escalations.kernel import get_escalation, visible_cases
from direkte.escalations.moderation import approve_held, list_held, reject_held
from direkte.escalations.opening import Opened, Preview, open_escalation, preview_escalation
from direkte.escalations.staff_actions import (
    acknowledge_escalation,
    add_note,
    log_call,
    post_message,
    resolve_escalation,
)
from direkte.escalations.sweep import close_settled, escalate_breached

__all__ = [
    "AppealPreview",
    "Appealed",
    "InboxEntry",
    "ManagerLoad",
    "Opened",
    "Preview",
    "acknowledge_escalation",
    "add_note",
    "appeal_escalation",
    "appeal_refusal",
    "approve_held",
    "close_settled",
    "escalate_breached",
    "get_case_entry",
    "get_escalation",
    "inbox_items_json",
    "list_held",
    "list_inbox",
    "list_manager_load",
    "log_call",
    "open_escalation",
    "post_message",
    "preview_appeal",
    "preview_escalation",
    "rate_escalation",
    "reject_held",
    "resolve_escalation",
    "visible_cases",
    "withdraw_escalation",
]
