"""The pure helpers: the wait-value pre-check, value conversion, error names, URL masking."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pydantic
import pytest
from kitaru.backend import ExecutionNotFoundError
from kitaru.errors import KitaruUsageError, KitaruWaitValidationError
from kitaru_mcp._errors import as_tool, error_type
from kitaru_mcp._shapes import jsonable_value, qualified_type_name
from kitaru_mcp._system import mask_url
from kitaru_mcp._waits import check_value, json_type_of


@pytest.mark.parametrize(
    ("schema", "good", "bad"),
    [
        ({"type": "integer"}, [0, 5, -3, 2.0], [True, "5", 1.5, None, [1], {"a": 1}]),
        ({"type": "number"}, [1, 1.5], [False, "1.5", None]),
        ({"type": "boolean"}, [True, False], [0, 1, "true", None]),
        ({"type": "string"}, ["", "x"], [1, None, ["x"]]),
        ({"type": "array", "items": {"type": "integer"}}, [[], [1]], [{}, "[]"]),
        ({"type": "object", "properties": {"a": {"type": "integer"}}}, [{}, {"a": 1}], [[], "{}"]),
        ({"type": "null"}, [None], [0, ""]),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, [1, None], ["1", True]),
        ({"type": ["string", "null"]}, ["a", None], [1]),
    ],
)
def test_top_level_type_pre_check(schema: dict[str, Any], good: list[Any], bad: list[Any]) -> None:
    for value in good:
        check_value("w", schema, value)
    for value in bad:
        with pytest.raises(KitaruWaitValidationError, match="The wait is still pending"):
            check_value("w", schema, value)


def test_pre_check_message_says_what_to_send() -> None:
    with pytest.raises(KitaruWaitValidationError) as info:
        check_value("approve", {"type": "boolean"}, "true")
    message = str(info.value)
    assert message.startswith("Value for wait 'approve' must be JSON boolean, got string")
    assert "Pass the JSON value itself (true)" in message
    assert '{"type": "boolean"}' in message
    with pytest.raises(KitaruWaitValidationError) as info:
        check_value("n", {"type": "integer"}, "five")
    assert "Pass the JSON value" not in str(info.value)


def test_pre_check_leaves_what_it_cannot_judge_to_core() -> None:
    for schema in (
        None,
        {},
        {"$ref": "#/$defs/X"},
        {"anyOf": [{"$ref": "#/$defs/X"}]},
        {"enum": [1, 2]},
    ):
        check_value("w", schema, "anything")  # type: ignore[arg-type]


def test_json_type_names() -> None:
    assert [json_type_of(v) for v in (None, True, 1, 1.0, 1.5, "", [], (), {})] == [
        "null",
        "boolean",
        "integer",
        "integer",
        "number",
        "string",
        "array",
        "array",
        "object",
    ]


class Model(pydantic.BaseModel):
    when: dt.date
    tags: set[str]


@dataclasses.dataclass
class Point:
    x: int
    y: int | None = None


class Opaque:
    def __repr__(self) -> str:
        return "<opaque>"


def test_value_conversion() -> None:
    assert jsonable_value({"a": (1, 2)}) == ({"a": [1, 2]}, "json")
    assert jsonable_value(Point(x=1)) == ({"x": 1}, "json")
    model = Model(when=dt.date(2026, 1, 2), tags={"b", "a"})
    converted, fmt = jsonable_value(model)
    assert fmt == "json" and converted["when"] == "2026-01-02"
    assert sorted(converted["tags"]) == ["a", "b"]
    assert jsonable_value(Opaque()) == ("<opaque>", "repr")
    assert jsonable_value(float("nan"))[1] == "repr"
    assert jsonable_value(b"\x00") == (repr(b"\x00"), "repr")
    assert jsonable_value(Model)[1] == "repr"  # a class, not an instance
    assert qualified_type_name(1) == "int"
    assert qualified_type_name(Opaque()) == f"{__name__}.Opaque"


def test_error_type_uses_the_public_error_tree() -> None:
    assert error_type(ExecutionNotFoundError("x")) == "KitaruStateError"
    assert error_type(KitaruWaitValidationError("x")) == "KitaruWaitValidationError"
    assert error_type(LookupError("x")) == "LookupError"


def test_as_tool_turns_exceptions_into_tool_errors() -> None:
    import anyio
    from mcp.server.mcpserver.exceptions import ToolError

    def bad(x: int) -> int:
        """Doc."""
        raise KitaruUsageError(f"bad {x}")

    async def bad_async() -> None:
        raise LookupError("")

    wrapped = as_tool(bad)
    assert wrapped.__doc__ == "Doc." and wrapped.__wrapped__ is bad  # type: ignore[attr-defined]
    with pytest.raises(ToolError, match=r"^KitaruUsageError: bad 3$"):
        wrapped(3)
    with pytest.raises(ToolError, match=r"^LookupError: \(no message\)$"):
        anyio.run(as_tool(bad_async))


def test_mask_url() -> None:
    assert mask_url("postgresql+psycopg://kit:s3cret@db.example:5432/kitaru") == (
        "postgresql+psycopg://kit:***@db.example:5432/kitaru"
    )
    assert mask_url("sqlite:////tmp/kitaru.db") == "sqlite:////tmp/kitaru.db"
    assert mask_url("postgresql://kit@db/kitaru") == "postgresql://kit@db/kitaru"
    assert mask_url("postgresql://kit:pw@[::1]:5432/k") == "postgresql://kit:***@[::1]:5432/k"
    assert mask_url(None) is None
