"""Input strings and ID numbers: what is refused at the door (security review M7, L2, L4)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Any

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

import bizportal.api
from bizportal.engine.applications.thai_id import normalise_thai_id
from bizportal.engine.input_text import GUARDS, has_visible_text, line, text
from bizportal.engine.licences.request_input import HolderInput


class Sample(BaseModel):
    name: Annotated[str, line(20, min_length=1)]
    comment: Annotated[str, text(100)] = ""


def _refusal(**fields: str) -> str:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate({"name": "ok", **fields})
    return str(caught.value.errors()[0]["msg"])


@pytest.mark.parametrize("value", ["   ", "\u200b", "\u200b\u200c\ufeff", "\u3164", "\u2800", "\u00a0\u3000"])
def test_a_name_needs_visible_text(value: str) -> None:
    assert not has_visible_text(value)
    assert "visible text" in _refusal(name=value)


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                  "\u2069"])
def test_bidirectional_controls_are_refused_in_names_and_text(char: str) -> None:
    assert f"U+{ord(char):04X}" in _refusal(name=f"{char}ecilA")
    assert f"U+{ord(char):04X}" in _refusal(comment=f"ok {char}")


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_control_characters_are_refused(char: str) -> None:
    assert f"U+{ord(char):04X}" in _refusal(name=f"Al{char}ice")
    assert f"U+{ord(char):04X}" in _refusal(comment=f"Al{char}ice")
    assert "string" in _refusal(name="Al\ud800ice")  # a lone surrogate: pydantic's own check


def test_text_may_span_lines_a_name_may_not() -> None:
    assert Sample(name="ok", comment="line 1\r\n\tline 2").comment == "line 1\r\n\tline 2"
    assert "single line" in _refusal(name="Al\nice")


def test_visible_text_keeps_joiners_thai_and_emoji() -> None:
    for value in ("สมหญิง ใจดี", "น้ำ", "a\u200db", "👩\u200d🍳", "ร้าน\u200bข้าว"):
        assert Sample(name=value).name == value
    assert Sample(name="ok").comment == ""  # an empty optional text stays allowed


def test_length_is_checked_before_the_text_is_scanned() -> None:
    assert "at most 20 characters" in _refusal(name="x" * 21)


@pytest.mark.parametrize(("number", "message"), [
    ("๑๑๐๑๗๐๐๒๐๓๓๙๕", "13 digits 0-9"),  # Thai digits of a valid number
    ("١١٠١٧٠٠٢٠٣٣٩٥", "13 digits 0-9"),  # Arabic-Indic
    ("１１０１７００２０３３９５", "13 digits 0-9"),  # full-width
    ("0000000000001", "not a Thai identification number"),  # a correct check digit, but nobody's
    ("9101700203390", "not a Thai identification number"),  # no number starts with 9
    ("1101700203391", "check digit"),
])
def test_id_numbers_are_ascii_digits_of_a_possible_holder(number: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_thai_id(number)
    with pytest.raises(ValidationError, match=message):
        HolderInput(holder_id_number=number)


def test_id_numbers_keep_dashes_and_spaces_out() -> None:
    assert normalise_thai_id("1-1017-00203-39-5") == "1101700203395"
    assert normalise_thai_id("0 1055 56123 45 3") == "0105556123453"  # a juristic person's


# --- every request body's strings are guarded ----------------------------------------------------------

def _body_types() -> list[tuple[str, Any]]:
    """(route, body annotation) for every route of every router in bizportal.api."""
    found = []
    for module_info in pkgutil.iter_modules(bizportal.api.__path__):
        module = importlib.import_module(f"bizportal.api.{module_info.name}")
        for router in [value for value in vars(module).values() if isinstance(value, APIRouter)]:
            for route in router.routes:
                if isinstance(route, APIRoute):
                    # A form field's guard is in its FieldInfo's metadata, beside the bare `str`.
                    found += [(f"{sorted(route.methods or ())} {route.path}",
                               Annotated[(param.field_info.annotation, *param.field_info.metadata)]
                               if param.field_info.metadata else param.field_info.annotation)
                              for param in route.dependant.body_params]
    return found


def _unguarded_strings(node: object, path: str = "") -> list[str]:
    """Paths in a pydantic core schema to a `str` that no input_text guard (or the ID check) validates."""
    if isinstance(node, dict):
        function = node.get("function")
        if node.get("type") == "function-after" and isinstance(function, dict) \
                and function.get("function") in (*GUARDS, normalise_thai_id):
            return []
        if node.get("type") == "str":
            return [path]
        return [found for key, value in node.items() for found in _unguarded_strings(value, f"{path}/{key}")]
    if isinstance(node, list | tuple):
        return [found for index, value in enumerate(node) for found in _unguarded_strings(value, f"{path}[{index}]")]
    return []


def test_every_string_in_every_request_body_is_a_guarded_line_or_text() -> None:
    # A plain `str` lets NUL (a 500 on PostgreSQL), bidi overrides and invisible text through.
    bodies = _body_types()
    assert len(bodies) >= 10  # the walk found the routers
    unguarded = {route: paths for route, annotation in bodies
                 if (paths := _unguarded_strings(TypeAdapter(annotation).core_schema))}
    assert unguarded == {}


def test_the_walk_finds_a_plain_string() -> None:
    class Plain(BaseModel):
        fine: Annotated[str, line(10)]
        items: list[str]

    assert _unguarded_strings(TypeAdapter(Plain).core_schema) != []
