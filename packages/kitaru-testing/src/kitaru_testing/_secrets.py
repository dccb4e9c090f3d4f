"""Conformance: secrets, named sets of ``KEY=value`` pairs in the journal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from kitaru.backend import Backend, NotFoundError

from kitaru_testing._base import ConformanceBase
from kitaru_testing._records import at, make_secret

__all__ = ["SecretTests"]


class SecretTests(ConformanceBase):
    """put_secret, get_secret, list_secrets, delete_secret."""

    def test_put_secret_stores_the_record(self, backend: Backend) -> None:
        secret = make_secret()
        assert backend.put_secret(secret) == secret
        assert backend.get_secret(secret.name) == secret
        assert backend.get_secret(secret.secret_id) == secret
        assert backend.list_secrets() == [secret]
        got = backend.get_secret(secret.name)
        assert got.created_at.utcoffset() == timedelta(0)
        assert type(got.values) is dict

    def test_secret_values_round_trip(self, backend: Backend) -> None:
        values = {"A": "", "B": "with = and \n newline", "ÜNÏ": "☃", "long": "x" * 10_000}
        empty = backend.put_secret(make_secret("empty", values={}))
        full = backend.put_secret(make_secret("full", values=values))
        assert backend.get_secret("empty").values == empty.values == {}
        assert backend.get_secret("full").values == full.values == values

    def test_put_secret_replaces_values_by_name(self, backend: Backend) -> None:
        first = backend.put_secret(make_secret())
        again = make_secret(
            secret_id="sec-other", values={"ONLY": "new"}, created_at=at(90), updated_at=at(91)
        )
        stored = backend.put_secret(again)
        expected = make_secret(
            secret_id=first.secret_id,
            values={"ONLY": "new"},
            created_at=first.created_at,
            updated_at=at(91),
        )
        assert stored == expected
        assert backend.get_secret(first.name) == expected
        assert backend.get_secret(first.secret_id) == expected
        assert backend.list_secrets() == [expected]
        with pytest.raises(NotFoundError):
            backend.get_secret("sec-other")

    def test_list_secrets_sorted_by_name(self, backend: Backend) -> None:
        names = ["b", "a", "B", "a2", "ä"]
        for name in names:
            backend.put_secret(make_secret(name))
        assert [s.name for s in backend.list_secrets()] == sorted(names)

    def test_get_secret_prefers_the_id(self, backend: Backend) -> None:
        by_id = backend.put_secret(make_secret("alpha", secret_id="shared"))
        backend.put_secret(make_secret("shared"))
        assert backend.get_secret("shared") == by_id

    def test_unknown_secrets_raise_not_found(self, backend: Backend) -> None:
        backend.put_secret(make_secret())
        for lookup in (backend.get_secret, backend.delete_secret):
            with pytest.raises(NotFoundError) as info:
                lookup("no-such-secret")
            assert isinstance(info.value, LookupError)
        assert len(backend.list_secrets()) == 1

    def test_delete_secret_by_id_or_name(self, backend: Backend) -> None:
        one = backend.put_secret(make_secret("one"))
        two = backend.put_secret(make_secret("two"))
        assert backend.delete_secret(one.secret_id) == one
        assert backend.delete_secret("two") == two
        assert backend.list_secrets() == []
        for gone in (one.secret_id, "one", "two"):
            with pytest.raises(NotFoundError):
                backend.get_secret(gone)
        again = make_secret("one")
        assert backend.put_secret(again) == again  # the name is free again

    def test_returned_secrets_are_values(self, backend: Backend) -> None:
        secret = backend.put_secret(make_secret())
        got = backend.get_secret(secret.name)
        got.values["OPENAI_API_KEY"] = "changed"  # type: ignore[index]
        assert backend.get_secret(secret.name) == secret
