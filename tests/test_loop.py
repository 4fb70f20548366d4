"""direkte.loop: CPU-heavy work called from a request's greenlet leaves the event loop
free; called anywhere else it is a plain call."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy.util import greenlet_spawn

from direkte.loop import in_worker_thread, let_others_run
from direkte.network.passwords import hash_password, verify_password
from tests.loops import run_in_own_loop


def test_in_worker_thread_moves_work_off_the_loops_thread_only_in_a_greenlet() -> None:
    here = threading.get_ident()
    assert in_worker_thread(threading.get_ident) == here  # no greenlet: a plain call

    async def on_the_loop() -> tuple[int, int]:
        loop_thread = threading.get_ident()
        worker = await greenlet_spawn(in_worker_thread, threading.get_ident)
        return loop_thread, worker

    loop_thread, worker = run_in_own_loop(on_the_loop)
    assert worker != loop_thread


def test_password_checks_leave_the_loop_to_others() -> None:
    async def logins_and_ticks() -> tuple[bool, int]:
        ticks = 0
        stop = asyncio.Event()

        async def tick() -> None:
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0)

        ticker = asyncio.create_task(tick())
        await asyncio.sleep(0)
        hashed = await greenlet_spawn(hash_password, "correct horse battery")
        ticks_before = ticks
        ok = await greenlet_spawn(verify_password, hashed, "correct horse battery")
        during = ticks - ticks_before
        stop.set()
        await ticker
        return ok, during

    ok, during = run_in_own_loop(logins_and_ticks)
    assert ok
    assert during > 5  # the loop ran other work while argon2 computed (about 15 ms)


def test_let_others_run_gives_the_loop_a_turn() -> None:
    def busy(log: list[str]) -> None:
        for step in range(3):
            log.append(f"busy {step}")
            let_others_run()

    async def both() -> list[str]:
        log: list[str] = []

        async def other() -> None:
            for step in range(3):
                log.append(f"other {step}")
                await asyncio.sleep(0)

        await asyncio.gather(greenlet_spawn(busy, log), other())
        return log

    log = run_in_own_loop(both)
    assert log.index("other 1") < log.index("busy 2")  # interleaved, not one then the other
    plain: list[str] = []
    busy(plain)  # outside a greenlet: runs straight through
    assert plain == ["busy 0", "busy 1", "busy 2"]
