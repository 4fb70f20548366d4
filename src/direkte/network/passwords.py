"""Users' passwords: argon2id hashes (a user is the network's; log-in uses these)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from direkte.loop import in_worker_thread

# The shortest password set through the API or the network file (older ones still work).
MIN_PASSWORD_LENGTH = 12
# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): about 15 ms a hash here.
# docs/operations.md states them; a hash made with others is redone at the next log-in.
TIME_COST = 2
MEMORY_COST_KIB = 19456
PARALLELISM = 1
_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)
# Verifying against this keeps unknown e-mails as slow as wrong passwords.
DUMMY_HASH = _hasher.hash("direkte-timing-equalizer")


# Hashing and verifying take about 15 ms of CPU (argon2 releases the GIL): in a worker
# thread when called on the event loop, which would otherwise serve nothing meanwhile.
def hash_password(password: str) -> str:
    return in_worker_thread(_hasher.hash, password)


def verify_password(password_hash: str, password: str) -> bool:
    return in_worker_thread(_verify, password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash was made with other parameters than today's."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
