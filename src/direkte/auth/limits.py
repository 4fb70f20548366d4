"""Limits (API.md "Authentication"): the log-in lock and the per-caller rate.

Both are ``limits`` fixed windows, kept where every process sees them: in Redis
when ``DIREKTE_REDIS_URL`` is set (``limits``' own Redis storage), else in the
database (``DatabaseStorage``, one upsert per hit on ``rate_limit_windows``).

On the event loop (a request's greenlet on PostgreSQL, ``kit.offload``) a Redis
round trip is awaited on ``limits``' asyncio storage over ``redis.asyncio``, so
that it does not stall the process's other requests; elsewhere (SQLite's requests
in the thread pool, commands) the same keys are counted by the synchronous one.
The database storage needs neither: its engine awaits on the loop by itself.

- Log-in: 5 failures for one e-mail (existing or not) in 15 minutes lock it until
  the window passes; a locked log-in is answered 429 before any password is
  checked, so the answer and its time are the same for every e-mail, and a
  success does not clear the failures.
- Per caller: a bearer token, else an API key, else the client address, counted
  per request before the credentials are checked.

A counter lives outside the request's transaction: a failed log-in is rolled
back, its failure must stay.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio
import sqlalchemy as sa
from limits import RateLimitItem, RateLimitItemPerSecond, WindowStats, parse
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import FixedWindowRateLimiter as AsyncFixedWindowRateLimiter
from limits.storage import RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

from direkte import direct
from direkte.auth.models import RateLimitWindow
from direkte.clock import Clock
from direkte.errors import RateLimited

_T = RateLimitWindow.__table__
# A Redis that stops answering fails a request after this long, not never.
REDIS_TIMEOUTS = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}


def _upsert(insert: Any) -> sa.Executable:
    """Add to a window, or start it anew when it has expired: one statement."""
    stmt = insert(_T).values(
        key=sa.bindparam("key"), hits=sa.bindparam("amount"), expires_at=sa.bindparam("expires")
    )
    expired = _T.c.expires_at <= sa.bindparam("now")
    stmt = stmt.on_conflict_do_update(
        index_elements=[_T.c.key],
        set_={
            "hits": sa.case((expired, stmt.excluded.hits), else_=_T.c.hits + stmt.excluded.hits),
            "expires_at": sa.case((expired, stmt.excluded.expires_at), else_=_T.c.expires_at),
        },
    )
    return stmt.returning(_T.c.hits)  # type: ignore[no-any-return]


_UPSERT = {"postgresql": _upsert(postgresql.insert), "sqlite": _upsert(sqlite.insert)}
_DIRECT_UPSERT = direct.Select(_UPSERT["postgresql"])  # type: ignore[arg-type]
_GET = sa.select(_T.c.hits, _T.c.expires_at).where(_T.c.key == sa.bindparam("key"))


def _incr(engine: Engine, params: dict[str, Any]) -> int:
    """One upsert; once more on a fresh connection if the pooled one had died.

    The counter engine does not ping connections before use (a round trip on every
    request); a connection the server dropped fails here once and is replaced.
    """
    stmt = _UPSERT[engine.dialect.name]
    for attempt in (1, 2):
        try:
            with engine.connect() as conn:
                if direct.supported(conn):  # every request: through psycopg
                    hits = _DIRECT_UPSERT.rows(conn, params)[0][0]
                else:
                    hits = conn.execute(stmt, params).scalar_one()
                conn.commit()
            return int(hits)
        except sa.exc.DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


class DatabaseStorage(Storage):
    """``limits`` storage on the ``rate_limit_windows`` table (fixed windows only).

    Each call is its own short transaction from ``sessions``; time is the app's clock.
    """

    STORAGE_SCHEME = None

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        super().__init__()
        self._sessions = sessions
        self._clock = clock

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sa.exc.SQLAlchemyError

    def now(self) -> float:
        return self._clock.now().timestamp()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.now()
        params = {"key": key, "amount": amount, "expires": now + expiry, "now": now}
        bind = self._sessions.kw.get("bind")
        if isinstance(bind, Engine):
            # Every request comes here: a bare connection costs less than a Session.
            return _incr(bind, params)
        with self._sessions() as session:
            stmt = _UPSERT[session.get_bind().dialect.name]
            hits = session.execute(stmt, params).scalar_one()
            session.commit()
        return int(hits)

    def _row(self, key: str) -> Any:
        with self._sessions() as session:
            row = session.execute(_GET, {"key": key}).first()
            session.commit()
        return row if row is not None and row.expires_at > self.now() else None

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row.hits) if row is not None else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row.expires_at) if row is not None else self.now()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._sessions() as session:
            result = session.execute(sa.delete(RateLimitWindow))
            session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    def clear(self, key: str) -> None:
        with self._sessions() as session:
            session.execute(sa.delete(RateLimitWindow).where(RateLimitWindow.key == key))
            session.commit()


def purge_windows(session: Session, *, now: float) -> int:
    """Delete windows that have passed (the worker's key-expiry step)."""
    result = session.execute(sa.delete(RateLimitWindow).where(RateLimitWindow.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:32]


class RedisOnLoop:
    """``limits``' asyncio Redis storage, one per event loop: a ``redis.asyncio``
    connection pool belongs to the loop it was made on (a server has one loop per
    process; tests start several). The pool is made by redis-py from the URL, as the
    synchronous storage's is (``limits``' own parsing would refuse a URL without a
    port), with the same timeouts."""

    def __init__(self, url: str, prefix: str) -> None:
        self._url, self._prefix = url, prefix
        self._made: dict[
            asyncio.AbstractEventLoop,
            tuple[AsyncFixedWindowRateLimiter, redis.asyncio.ConnectionPool],
        ] = {}

    def limiter(self) -> AsyncFixedWindowRateLimiter:
        """The running loop's limiter (made on first use)."""
        loop = asyncio.get_running_loop()
        made = self._made.get(loop)
        if made is None:
            for old in [old for old in self._made if old.is_closed()]:
                del self._made[old]  # a finished loop's (a test's): nothing to close on
            pool = redis.asyncio.ConnectionPool.from_url(self._url, **REDIS_TIMEOUTS)
            options: dict[str, Any] = {"connection_pool": pool}  # passed on to redis-py
            storage = AsyncRedisStorage(
                "async+redis://", implementation="redispy", key_prefix=self._prefix, **options
            )
            made = self._made[loop] = (AsyncFixedWindowRateLimiter(storage), pool)
        return made[0]

    async def aclose(self) -> None:
        """Close the running loop's connections (at the app's shutdown)."""
        made = self._made.pop(asyncio.get_running_loop(), None)
        if made is not None:
            await made[1].aclose()


class Limits:
    """The log-in lock and the per-caller rate, on one ``limits`` storage (and for a
    Redis storage, its asyncio twin on the event loop: ``RedisOnLoop``)."""

    def __init__(
        self,
        storage: Storage,
        now: Callable[[], float],
        *,
        caller_rate: str,
        address_rate: str,
        login_failures: int,
        login_window_seconds: int,
        on_loop: RedisOnLoop | None = None,
    ) -> None:
        self._limiter = FixedWindowRateLimiter(storage)
        self._on_loop = on_loop
        self._now = now
        self._caller: RateLimitItem | None = _rate(caller_rate)
        self._address: RateLimitItem | None = _rate(address_rate)
        self._login = RateLimitItemPerSecond(login_failures, login_window_seconds)

    def hit_caller(self, *, token: str | None, key: str | None, address: str) -> None:
        """Count a request against its caller. Raises RateLimited over the rate."""
        if token:
            self._hit(self._caller, "t", _digest(token))
        elif key:
            self._hit(self._caller, "k", _digest(key))
        else:
            self._hit(self._address, "a", address)

    @property
    def on_loop(self) -> RedisOnLoop | None:
        """The Redis storage's asyncio twin, counting on the event loop; None if none."""
        return self._on_loop

    async def aclose(self) -> None:
        """Close the event loop's Redis connections, if any (the app's shutdown)."""
        if self._on_loop is not None:
            await self._on_loop.aclose()

    def check_login(self, email: str) -> None:
        """Raises RateLimited while the e-mail's log-in is locked."""
        if not self._test(self._login, "login", _digest(email)):
            raise self._refusal(self._login, "login", _digest(email), "too many failed log-ins")

    def record_login_failure(self, email: str) -> None:
        self._count(self._login, "login", _digest(email))

    def _hit(self, item: RateLimitItem | None, kind: str, ident: str) -> None:
        if item is not None and not self._count(item, kind, ident):
            raise self._refusal(item, kind, ident, "too many requests")

    # The three calls on the window, awaited on the loop where there is one to await.
    def _awaitable(self) -> AsyncFixedWindowRateLimiter | None:
        """The loop's limiter when called in a request's greenlet with Redis, else None."""
        return self._on_loop.limiter() if self._on_loop is not None and in_greenlet() else None

    def _count(self, item: RateLimitItem, kind: str, ident: str) -> bool:
        if (aio := self._awaitable()) is not None:
            return bool(await_only(aio.hit(item, kind, ident)))
        return self._limiter.hit(item, kind, ident)

    def _test(self, item: RateLimitItem, kind: str, ident: str) -> bool:
        if (aio := self._awaitable()) is not None:
            return bool(await_only(aio.test(item, kind, ident)))
        return self._limiter.test(item, kind, ident)

    def _stats(self, item: RateLimitItem, kind: str, ident: str) -> WindowStats:
        if (aio := self._awaitable()) is not None:
            stats: WindowStats = await_only(aio.get_window_stats(item, kind, ident))
            return stats
        return self._limiter.get_window_stats(item, kind, ident)

    def _refusal(self, item: RateLimitItem, kind: str, ident: str, what: str) -> RateLimited:
        reset = self._stats(item, kind, ident).reset_time
        retry_after = max(1, math.ceil(reset - self._now()))
        return RateLimited(f"{what}; try again in {retry_after} s", retry_after=retry_after)


def _rate(text: str) -> RateLimitItem | None:
    return None if text.strip().lower() in ("", "off") else parse(text)


def make_limits(settings: Any, sessions: sessionmaker[Session], clock: Clock) -> Limits:
    """The app's limits: in Redis when ``redis_url`` is set, else in the database."""
    storage: Storage
    on_loop = None
    if settings.redis_url:
        storage = RedisStorage(
            settings.redis_url,
            key_prefix=settings.redis_prefix,
            socket_timeout=REDIS_TIMEOUTS["socket_timeout"],
            socket_connect_timeout=REDIS_TIMEOUTS["socket_connect_timeout"],
        )
        on_loop = RedisOnLoop(settings.redis_url, settings.redis_prefix)
        now: Callable[[], float] = time.time
    else:
        storage = db_storage = DatabaseStorage(sessions, clock)
        now = db_storage.now
    return Limits(
        storage,
        now,
        caller_rate=settings.rate_limit,
        address_rate=settings.rate_limit_anonymous,
        login_failures=settings.login_max_failures,
        login_window_seconds=settings.login_lock_seconds,
        on_loop=on_loop,
    )
