"""Masking what status surfaces show: secrets in environment values and passwords in URLs
(SPEC §7.2). A value is masked when its variable's name contains KEY, TOKEN, SECRET, PASSWORD,
CREDENTIAL or AUTH: its first 4 characters and ``***`` when it is at least 12 characters
long, else just ``***``."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["is_secret_name", "mask_env_value", "mask_secret", "mask_url"]

_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL|AUTH", re.I)
_SHOWN = 4
_MIN_PARTIAL = 12


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def mask_secret(value: str) -> str:
    return value[:_SHOWN] + "***" if len(value) >= _MIN_PARTIAL else "***"


def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def mask_env_value(name: str, value: str) -> str:
    """What status shows for the environment variable ``name``."""
    if is_secret_name(name):
        return mask_secret(value)
    return mask_url(value) if "://" in value else value
