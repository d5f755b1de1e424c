"""Password rules for reviewer accounts: long enough, not the username, not a common password.

The same rules hold wherever a password is set (``pantau users add`` / ``set-password``, the admin
form, the library), because :mod:`pantau.queue.users` checks them before hashing. Messages are in
Indonesian with the English alongside, as the reviewers read them.
"""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from pantau.queue.errors import Invalid

MIN_PASSWORD = 10
# Passwords in the list are lowercased, so the check compares lowercased too ("Password123" is as
# guessable as "password123").
_RESOURCES = "pantau.resources"
_COMMON_GZ = "common-passwords.txt.gz"  # from Django (BSD-3-Clause); see common-passwords.NOTICE
_COMMON_ID = "common-passwords-id.txt"  # pantau's own Indonesian additions

TOO_SHORT = (
    f"Kata sandi minimal {MIN_PASSWORD} karakter (the password must have at least {MIN_PASSWORD} characters)"
)
IS_USERNAME = "Kata sandi tidak boleh sama dengan nama pengguna (the password must not be the username)"
IS_COMMON = (
    "Kata sandi ini termasuk yang paling sering dipakai dan mudah ditebak; pilih yang lain "
    "(this password is on a list of common passwords; choose another)"
)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lowercased), read once per process."""
    root = resources.files(_RESOURCES)
    words = set(gzip.decompress(root.joinpath(_COMMON_GZ).read_bytes()).decode("utf-8").split())
    for line in root.joinpath(_COMMON_ID).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(line.lower())
    return frozenset(words)


def password_problem(password: object, username: str | None = None) -> str | None:
    """Why ``password`` may not be used (a bilingual sentence), or None when it may."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return TOO_SHORT
    if username is not None and password.strip().casefold() == username.strip().casefold():
        return IS_USERNAME
    if password.strip().lower() in common_passwords():
        return IS_COMMON
    return None


def check_password(password: object, username: str | None = None) -> None:
    """Raise :class:`Invalid` with the reason when ``password`` breaks a rule."""
    problem = password_problem(password, username)
    if problem is not None:
        raise Invalid(problem)
