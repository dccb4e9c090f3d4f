"""The pure helpers: explaining a rejected wait value, value conversion, error names, URLs."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pydantic
import pytest
from kitaru.backend import ExecutionNotFoundError
from kitaru.errors import KitaruUsageError, KitaruWaitValidationError
from kitaru_mcp._errors import as_tool, error_type
from kitaru_mcp._shapes import jsonable_value, qualified_type_name
from kitaru_mcp._system import mask_url
from kitaru_mcp._waits import explain, json_type_of


def test_explain_says_what_to_send() -> None:
    core = KitaruWaitValidationError("Input for wait 'approve' does not match its schema: x.")
    message = str(explain("approve", {"type": "object"}, '{"ok": true}', core))
    assert message.startswith("Input for wait 'approve' does not match its schema: x.")
    assert "must be JSON object, got string" in message
    assert 'Pass the JSON value itself ({"ok": true})' in message
    assert '{"type": "object"}' in message and "The wait 'approve' is still pending." in message
    message = str(explain("n", {"type": "integer"}, "five", core))
    assert "must be JSON integer, got string" in message
    assert "Pass the JSON value" not in message


def test_explain_tells_how_to_send_text_that_looks_like_another_type() -> None:
    core = KitaruWaitValidationError("Input for wait 'q' does not match its schema: x.")
    message = str(explain("q", {"type": "string"}, 5, core))
    assert "must be JSON string, got integer 5." in message
    assert 'To send it as text, pass the JSON string "5".' in message
    message = str(explain("q", {"type": "string"}, None, core))
    assert 'pass the JSON string "null".' in message
    assert "To send it as text" not in str(explain("q", {"type": "integer"}, True, core))


def test_explain_leaves_what_it_cannot_judge_to_core() -> None:
    core = KitaruWaitValidationError("core says no")
    for schema in (None, {}, {"$ref": "#/$defs/X"}, {"enum": [1, 2]}):
        message = str(explain("w", schema, "anything", core))
        assert message.startswith("core says no.") and "must be JSON" not in message


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
