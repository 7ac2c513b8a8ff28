"""Password hashing with argon2id (argon2-cffi) and the password policy."""
from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

MIN_LENGTH = 8
MAX_LENGTH = 256

# A short deny-list of the most common passwords; the length rule does most of the work.
COMMON_PASSWORDS = frozenset(
    """password password1 password123 12345678 123456789 1234567890 qwertyuiop qwerty123
    azertyuiop azerty123 iloveyou11 welkom123 wachtwoord wachtwoord1 motdepasse 11111111
    00000000 abcd1234 abc12345 letmein123 admin123 administrator proeftuin proeftuin1
    sunshine1 football1 baseball1 princess1 passw0rd p@ssw0rd changeme""".split()
)


def _hasher() -> PasswordHasher:
    profile = getattr(profiles, current_app.config["ARGON2_PROFILE"])
    return PasswordHasher.from_parameters(profile)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def password_problem(password: str) -> str | None:
    """Return the policy rule a password breaks (untranslated key), or None."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    if password.lower() in COMMON_PASSWORDS:
        return "too_common"
    return None
