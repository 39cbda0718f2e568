"""Passwords, CSRF tokens and who may see what: the portal's rules of access, in one place.

Passwords are hashed with Argon2id (argon2-cffi, its current default parameters) and re-hashed on login when
those parameters change. A session is a random token in an HttpOnly, SameSite=Strict cookie; the database keeps
only its sha256 (portal/store.py). Every form carries the session's CSRF token (the login form, before any
session, a token that must equal the one in its own cookie), compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from portal.store import Account

SESSION_COOKIE: Final = "chibo_session"
LOGIN_CSRF_COOKIE: Final = "chibo_login_csrf"
MINIMUM_PASSWORD_LENGTH: Final = 10

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MINIMUM_PASSWORD_LENGTH:
        raise ValueError(f"a password must have at least {MINIMUM_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# A hash to verify against when the account does not exist, so that a wrong name costs as long as a wrong password.
DUMMY_HASH: Final = _hasher.hash(secrets.token_urlsafe(16))


def new_password() -> str:
    """A password for an account created without one: 16 characters, easy to read out (no 0/O, 1/l)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


# ------------------------------------------------------------------ who may see what


def sees_province(viewer: Account, province_code: str | None) -> bool:
    """Operators see every province; staff their own (a current, 2025+ province code); submitters none."""
    if viewer.role == "operator":
        return True
    return viewer.role == "staff" and province_code is not None and viewer.province_code == province_code


def sees_committee(viewer: Account, committee_key: str | None, current_province_code: str | None) -> bool:
    """A submitter sees their own committee's reports; staff those of their province; operators all."""
    if viewer.role == "submitter":
        return committee_key is not None and viewer.committee_key == committee_key
    return sees_province(viewer, current_province_code)


def decides_for(viewer: Account, current_province_code: str | None) -> bool:
    """Who may approve or return a report and lock or unlock a province's year."""
    return viewer.role in ("staff", "operator") and sees_province(viewer, current_province_code)
