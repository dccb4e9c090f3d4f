"""Wait input is checked against the stored JSON schema and converted as pydantic's lax mode
would convert it for the Python type that produced the schema (SPEC decision 11)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, Literal

import pydantic
import pytest
from kitaru._jsonschema import coerce


class Decision(pydantic.BaseModel):
    approved: bool
    amount: int = 0
    tags: list[int] = []


class Color(enum.Enum):
    RED = "red"


CASES: list[tuple[Any, list[Any]]] = [
    (int, ["5", " 7 ", 5, 5.0, "5.0", True, "x", 5.5, None, [5]]),
    (bool, [True, "true", "yes", "no", "on", "0", 1, 0, 2, "maybe", None]),
    (float, ["1.5", 1, True, "x", "inf", "nan"]),
    (str, ["x", 5, True, None]),
    (Literal[1, 2], [1, "1", 3, True]),
    (Literal["a", "b"], ["a", "c", 1]),
    (Color, ["red", "blue"]),
    (int | None, ["5", None, "x"]),
    (int | str, ["5", 5, [1]]),
    (list[int], [["1", 2], ["x"], "1"]),
    (dict[str, int], [{"a": "1"}, {"a": "x"}]),
    (tuple[int, str], [["1", "x"]]),
    (Decision, [{"approved": "yes", "amount": "3", "tags": ["1"]}, {"amount": 1}, "x"]),
    (dt.date, ["2024-05-01", "not a date"]),
]


def _pydantic(tp: Any, value: Any) -> tuple[bool, Any]:
    try:
        return True, pydantic.TypeAdapter(tp).validate_python(value)
    except pydantic.ValidationError:
        return False, None


@pytest.mark.parametrize(("tp", "values"), CASES, ids=[repr(tp) for tp, _ in CASES])
def test_coercion_agrees_with_pydantic(tp: Any, values: list[Any]) -> None:
    schema = pydantic.TypeAdapter(tp).json_schema()
    for value in values:
        converted, problems = coerce(schema, value)
        ok, expected = _pydantic(tp, value)
        if value in ("inf", "nan"):  # pydantic takes them; they are not JSON values
            assert problems, value
            continue
        assert (not problems) == ok, (tp, value, problems)
        if ok:
            # What the flow's wait() returns from the stored (converted) value is what
            # pydantic makes of the original input.
            assert _pydantic(tp, converted) == (True, expected), (tp, value, converted)


def test_converted_value_has_the_json_type() -> None:
    assert coerce({"type": "integer"}, "5") == (5, [])
    assert coerce({"type": "boolean"}, "yes") == (True, [])
    schema = pydantic.TypeAdapter(Decision).json_schema()
    assert coerce(schema, {"approved": "false", "amount": "2"}) == (
        {"approved": False, "amount": 2},
        [],
    )
    value, problems = coerce({"type": "integer"}, "many")
    assert value == "many" and problems == ['$: expected integer, got string "many"']


def test_problems_show_values_as_json() -> None:
    assert coerce({"type": "string"}, None)[1] == ["$: expected string, got null"]
    assert coerce({"type": "string"}, True)[1] == ["$: expected string, got boolean true"]
    assert coerce({"type": "string"}, 5)[1] == ["$: expected string, got number 5"]
    assert coerce({"enum": ["a", "b"]}, "c")[1] == ['$: expected one of ["a", "b"], got "c"']
    assert coerce({"const": True}, False)[1] == ["$: expected true, got false"]
