"""The plain reading of common mutations gives exactly what the marshmallow schemas give, or steps aside."""
from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from app.core.inputs import bad_text
from app.sync.mutations import read_mutation
from app.sync.plain_checks import read_plain
from app.sync.schemas import ARGS_SCHEMAS, mutation_schema

PHOTO = str(uuid.UUID(int=7))


def _base(name: str, **args: Any) -> dict[str, Any]:
    return {
        "id": 3, "name": name, "args": {"pickup_id": 12, **args}, "base_version": 2,
        "device_time": "2026-12-02T17:04:05.123+01:00", "location": {"lat": 52.37, "lon": 4.89, "accuracy_m": 9},
    }  # fmt: skip


COMMON = [
    _base("arrive"),
    _base("scan_label", code="BH-7K3Q-9XW2"),
    _base("collect_items", items=[{"item_id": 5, "quantity": 1, "grade": "B", "notes": "", "photo_ids": [PHOTO]}], handed_over_by="Ann"),
    _base("collect_items", items=[{"item_id": 5, "quantity": 0}, {"item_id": 6, "quantity": 2, "grade": "A", "notes": None}], signature_photo_id=PHOTO),
    _base("fail_pickup", reason="not_home", photo_ids=[PHOTO]),
    _base("fail_pickup", reason="other", notes="Dog in the garden"),
    _base("note", text="Left through the side gate"),
    {"id": 1, "name": "arrive", "args": {"pickup_id": 1}},
    {"id": 1, "name": "arrive", "args": {"pickup_id": 1}, "base_version": None, "device_time": None, "location": None, "extra": 1},
]

# Each is something the schemas refuse or read differently: the plain reading must step aside.
NOT_PLAIN = [
    ("args", {"pickup_id": "12"}),  # a string where a number is wanted
    ("args", {"pickup_id": True}),
    ("args", {"pickup_id": 0}),
    ("args", {"pickup_id": 12, "surprise": 1}),  # unknown argument
    ("args", {}),
    ("base_version", -1),
    ("base_version", 1.0),
    ("device_time", "2026-12-02T17:04:05"),  # no offset
    ("device_time", "yesterday"),
    ("location", {"lat": 95, "lon": 4}),
    ("location", {"lat": float("nan"), "lon": 4}),
    ("location", {"lat": "52.3", "lon": 4}),
    ("location", {"lon": 4}),
    ("name", "teleport"),
    ("id", 0),
]


@pytest.mark.parametrize("raw", COMMON, ids=lambda raw: raw["name"])
def test_common_mutations_read_plainly_give_what_the_schemas_give(raw):
    plain = read_plain(copy.deepcopy(raw))
    assert plain is not None
    envelope, args = plain
    schema_envelope = mutation_schema.load(copy.deepcopy(raw))
    assert envelope == schema_envelope
    assert args == ARGS_SCHEMAS[raw["name"]].load(copy.deepcopy(raw["args"]))


@pytest.mark.parametrize(("key", "value"), NOT_PLAIN, ids=lambda v: repr(v)[:30])
def test_anything_unusual_is_left_to_the_schemas(key, value):
    raw = _base("arrive")
    raw[key] = value
    assert read_plain(raw) is None


@pytest.mark.parametrize(
    "args",
    [
        {"items": [{"item_id": 5, "quantity": 1}]},  # collected but not graded
        {"items": [{"item_id": 5, "quantity": 1, "grade": "E"}]},
        {"items": [{"item_id": 5, "quantity": 1, "grade": "A"}, {"item_id": 5, "quantity": 0}]},  # the same item twice
        {"items": []},
        {"items": [{"item_id": 5, "quantity": 1, "grade": "A", "photo_ids": ["not-a-uuid"]}]},
        {"items": [{"item_id": 5, "quantity": 1, "grade": "A", "photo_ids": [PHOTO] * 21}]},
        {"items": [{"item_id": 5, "quantity": 10_001, "grade": "A"}]},
    ],
)
def test_a_collection_the_schema_refuses_is_refused_with_the_schemas_words(args):
    raw = _base("collect_items", **args)
    assert read_plain(raw) is None
    mutation = read_mutation(raw)
    assert mutation.error is not None and mutation.error.code == "invalid_args"
    with pytest.raises(ValidationError) as refused:
        ARGS_SCHEMAS["collect_items"].load(raw["args"])
    assert mutation.error.fields == {"args": refused.value.messages}


def test_other_without_words_is_refused_as_before():
    mutation = read_mutation(_base("fail_pickup", reason="other", notes="  "))
    assert mutation.error is not None and mutation.error.code == "invalid_args"
    assert mutation.error.fields == {"args": {"notes": ["Say what happened when the reason is 'other'."]}}


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-3, max_value=2**31 + 3), st.floats(allow_nan=True),
    st.text(max_size=5), st.sampled_from(["A", "B", "not_home", "other", PHOTO, "2026-12-02T10:00:00+00:00"]),
)  # fmt: skip


def _variants(raw: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``raw`` with one value somewhere inside replaced, or one key dropped."""
    paths: list[tuple[Any, ...]] = []

    def walk(value: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, (*path, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(child, (*path, index))

    walk(raw, ())

    def change(path: tuple[Any, ...], new: Any, drop: bool) -> dict[str, Any]:
        copied = copy.deepcopy(raw)
        if not path:
            return copied
        parent = copied
        for step in path[:-1]:
            parent = parent[step]
        if drop and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = new
        return copied

    return st.builds(change, st.sampled_from(paths[1:]), _scalars, st.booleans())


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(COMMON).flatmap(_variants))
def test_any_variant_is_read_plainly_only_when_the_schemas_read_it_the_same(raw):
    # As in a push: text that cannot be kept (control characters, broken Unicode) is refused over
    # the whole raw mutation before either reader sees it (plain_checks counts on that).
    assume(not bad_text(raw))
    plain = read_plain(copy.deepcopy(raw))
    if plain is None:
        return  # the schemas read it, as they always did
    envelope, args = plain
    assert envelope == mutation_schema.load(copy.deepcopy(raw))
    assert args == ARGS_SCHEMAS[raw["name"]].load(copy.deepcopy(raw["args"]))
