"""Path parameters every router shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from direkte.fields import MAX_ROW_ID

# A row's id in a path: within the databases' INTEGER, so that a larger number is a
# 422 naming the parameter, not an out-of-range error from PostgreSQL.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
