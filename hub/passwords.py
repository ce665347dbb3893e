"""Argon2 password hashing, run off the event loop because it is deliberately slow."""
from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def hash_password_sync(password: str) -> str:
    """An argon2id hash of a password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


async def hash_password(password: str) -> str:
    """hash_password_sync in an executor."""
    return await asyncio.get_running_loop().run_in_executor(None, hash_password_sync, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str, password: str) -> bool:
    """True when the password matches the hash."""
    return await asyncio.get_running_loop().run_in_executor(None, _verify, password_hash, password)
