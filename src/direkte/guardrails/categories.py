"""What a content hold names (DESIGN.md §5), defined once for the screen and the policy.

Most severe and most specific first: threats to staff's families or homes; threats of
violence (direct, conditional or implied); doxxing; sexual harassment; stalking and
harassment; slurs and insults aimed at a person. Where phrases of two categories start
at the same word, the first names it.
"""

from __future__ import annotations

from typing import Literal

Category = Literal["family_threat", "threat", "doxxing", "sexual_harassment", "harassment", "abuse"]
CATEGORIES: tuple[Category, ...] = (
    "family_threat",
    "threat",
    "doxxing",
    "sexual_harassment",
    "harassment",
    "abuse",
)
# The two flags the policy has switched since the first screen: a threat, or abuse.
THREAT_CATEGORIES: frozenset[str] = frozenset({"threat", "family_threat"})
