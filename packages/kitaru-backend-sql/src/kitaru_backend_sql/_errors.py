"""Turning database errors into Kitaru errors, with the journal URL (password masked)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

import sqlalchemy as sa
from kitaru.errors import KitaruBackendError, KitaruUsageError
from sqlalchemy import exc

from kitaru_backend_sql._driver import UnstorableValueError
from kitaru_backend_sql._url import mask_url

__all__ = ["translate_errors", "unstorable"]


def unstorable(url: sa.URL, cause: BaseException) -> KitaruUsageError:
    """The error for a value the journal cannot store (the caller's mistake)."""
    return KitaruUsageError(f"The journal at {mask_url(url)} cannot store this value: {cause}")


@contextmanager
def translate_errors(
    url: sa.URL, dbapi_error: type[Exception] | tuple[type[Exception], ...] = ()
) -> Iterator[None]:
    """Raise database failures as :class:`KitaruBackendError` naming the journal.

    Values the driver cannot store (naive datetimes, data that is not JSON) are the caller's
    mistake and raise :class:`KitaruUsageError`; the transaction was rolled back either way.
    ``dbapi_error`` is the driver's own ``Error`` class, for statements run on the DB-API
    cursor directly (:mod:`kitaru_backend_sql._driver`).
    """
    try:
        yield
    except UnstorableValueError as error:
        raise unstorable(url, error) from error
    except exc.DBAPIError as error:
        raise KitaruBackendError(_describe(url, error)) from error
    except dbapi_error as error:
        raise KitaruBackendError(_describe(url, error)) from error
    except exc.StatementError as error:
        if isinstance(error.orig, TypeError | ValueError):
            raise unstorable(url, error.orig) from error
        raise KitaruBackendError(_describe(url, error)) from error
    except exc.SQLAlchemyError as error:  # pool timeouts, closed engines, ...
        raise KitaruBackendError(_describe(url, error)) from error


def _describe(url: sa.URL, error: Any) -> str:
    cause = getattr(error, "orig", None) or error
    detail = _mask_userinfo(url, " ".join(str(cause).split()))
    return f"The journal at {mask_url(url)} failed: {type(cause).__name__}: {detail}"


def _mask_userinfo(url: sa.URL, text: str) -> str:
    """``text`` with the journal's password masked where it appears as the password of a
    URL (``scheme://user:PASSWORD@host``), as given or percent-encoded. Only there: a short
    password (``p``) also occurs inside ordinary words ("port", "accepting"), which must stay
    readable."""
    if not url.password:
        return text
    password = str(url.password)
    forms = sorted({password, quote(password, safe=""), quote_plus(password)}, key=len)
    spelled = "|".join(re.escape(form) for form in reversed(forms))
    userinfo = re.compile(rf"(://[^\s/@:]*):(?:{spelled})@")
    text = userinfo.sub(r"\1:***@", text)
    # A driver may also echo its key=value connection string; and a password long enough
    # not to be an ordinary word is masked wherever it stands as a token of its own.
    text = re.sub(rf"(password\s*=\s*['\"]?)(?:{spelled})", r"\1***", text)
    if len(password) >= 6:
        text = re.sub(rf"(?<![\w%])(?:{spelled})(?![\w%])", "***", text)
    return text
