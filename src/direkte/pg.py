"""The PostgreSQL connection class of direkte's engines (``db.make_engine``).

``BeginAsPingConnection`` lets the pool's check-out ping be the transaction's
``BEGIN``: one round trip instead of two per request (docs/performance.md, "One
round trip less").

psycopg sends ``BEGIN`` before a statement, and ``COMMIT`` / ``ROLLBACK``, by the
connection's live transaction status (libpq's), so after ``begin_as_ping`` it sends
no ``BEGIN`` of its own, and commits and rolls back as always. The one thing an open
transaction forbids is changing the connection's settings (autocommit, isolation
level, read-only, deferrable), which SQLAlchemy does for
``execution_options(isolation_level=...)`` only when it has no transaction of its
own: the transaction then open is the ping's alone, with nothing run in it, and is
rolled back first.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import generators, pq

_IDLE = pq.TransactionStatus.IDLE
_INTRANS = pq.TransactionStatus.INTRANS


class BeginAsPingConnection(psycopg.Connection[Any]):
    """A psycopg connection whose pool ping starts its transaction."""

    _ping_open = False  # the transaction is the ping's, and nothing has run in it

    def begin_as_ping(self) -> bool:
        """Start the transaction with one ``BEGIN``; False if the connection is dead.

        Nothing is sent in autocommit mode or inside a transaction (there is none to
        start)."""
        if self.autocommit or self.pgconn.transaction_status != _IDLE:
            return self.pgconn.status == pq.ConnStatus.OK
        try:
            result = self.pgconn.exec_(b"BEGIN")
        except psycopg.Error:  # libpq could not even send it (a closed socket)
            return False
        if result.status != pq.ExecStatus.COMMAND_OK:
            return False
        self._ping_open = True
        return True

    def _end_ping(self) -> None:
        """Roll the ping's transaction back, so that a setting can change."""
        if self._ping_open:
            self._ping_open = False
            if self.pgconn.transaction_status == _INTRANS:
                self.rollback()

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        self._ping_open = False
        return super().cursor(*args, **kwargs)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._ping_open = False
        return super().execute(*args, **kwargs)

    def set_autocommit(self, value: bool) -> None:
        self._end_ping()
        super().set_autocommit(value)

    def set_isolation_level(self, value: psycopg.IsolationLevel | None) -> None:
        self._end_ping()
        super().set_isolation_level(value)

    def set_read_only(self, value: bool | None) -> None:
        self._end_ping()
        super().set_read_only(value)

    def set_deferrable(self, value: bool | None) -> None:
        self._end_ping()
        super().set_deferrable(value)


class AsyncBeginAsPingConnection(psycopg.AsyncConnection[Any]):
    """``BeginAsPingConnection`` for psycopg's async connections: the app's engine on
    the event loop (``db.make_engine(..., on_event_loop=True)``)."""

    _ping_open = False

    async def begin_as_ping(self) -> bool:
        """Start the transaction with one ``BEGIN``; False if the connection is dead.

        Nothing is sent in autocommit mode or inside a transaction."""
        if self.autocommit or self.pgconn.transaction_status != _IDLE:
            return self.pgconn.status == pq.ConnStatus.OK
        try:
            async with self.lock:
                self.pgconn.send_query(b"BEGIN")
                results = await self.wait(generators.execute(self.pgconn))
        except psycopg.Error:
            return False
        if not results or results[-1].status != pq.ExecStatus.COMMAND_OK:
            return False
        self._ping_open = True
        return True

    async def _end_ping(self) -> None:
        if self._ping_open:
            self._ping_open = False
            if self.pgconn.transaction_status == _INTRANS:
                await self.rollback()

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        self._ping_open = False
        return super().cursor(*args, **kwargs)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._ping_open = False
        return await super().execute(*args, **kwargs)

    async def set_autocommit(self, value: bool) -> None:
        await self._end_ping()
        await super().set_autocommit(value)

    async def set_isolation_level(self, value: psycopg.IsolationLevel | None) -> None:
        await self._end_ping()
        await super().set_isolation_level(value)

    async def set_read_only(self, value: bool | None) -> None:
        await self._end_ping()
        await super().set_read_only(value)

    async def set_deferrable(self, value: bool | None) -> None:
        await self._end_ping()
        await super().set_deferrable(value)
