"""Tests for datacoop.projects.tasktypes: configs, item data, answers, CSV gold parsing."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datacoop.errors import ValidationFailed
from datacoop.projects.tasktypes import (
    TASK_TYPES,
    answer_from_text,
    describe,
    validate_answer,
    validate_config,
    validate_item_data,
)


def details(call, *args) -> list[dict[str, str]]:
    with pytest.raises(ValidationFailed) as info:
        call(*args)
    assert info.value.code == "validation_failed"
    return info.value.details


def fields(call, *args) -> list[str]:
    return [d["field"] for d in details(call, *args)]


def one_error(call, *args) -> tuple[str, str]:
    found = details(call, *args)
    assert len(found) == 1, found
    return found[0]["field"], found[0]["message"]


GOOD_CONFIGS = {
    "single_choice": {"labels": ["cat", "bird"]},
    "multi_label": {"labels": ["cat"]},
    "pairwise": {},
    "rating": {},
    "free_text": {},
    "span": {"labels": ["PER"]},
}


# --- common --------------------------------------------------------------------------------


def test_task_types_and_descriptions():
    assert TASK_TYPES == ("single_choice", "multi_label", "pairwise", "rating", "free_text", "span")
    for task_type in TASK_TYPES:
        text = describe(task_type)
        assert isinstance(text, str) and text and "\n" not in text


@pytest.mark.parametrize(
    "call",
    [
        lambda: validate_config("choice", {}),
        lambda: validate_item_data("choice", {}, {}),
        lambda: validate_answer("choice", {}, {}, "x"),
        lambda: answer_from_text("choice", {}, "x"),
        lambda: describe("choice"),
        lambda: validate_config(None, {}),
    ],
)
def test_unknown_task_type(call):
    field, message = one_error(call)
    assert field == "task_type"
    assert message == (
        "must be one of: single_choice, multi_label, pairwise, rating, free_text, span"
    )


@pytest.mark.parametrize("task_type", TASK_TYPES)
@pytest.mark.parametrize("config", [None, [], "labels", 3])
def test_config_must_be_a_dict(task_type, config):
    assert one_error(validate_config, task_type, config) == ("config", "must be an object")


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_normalised_config_is_idempotent_and_input_untouched(task_type):
    raw = copy.deepcopy(GOOD_CONFIGS[task_type])
    once = validate_config(task_type, raw)
    assert raw == GOOD_CONFIGS[task_type]
    assert validate_config(task_type, once) == once


@pytest.mark.parametrize("task_type", TASK_TYPES)
def test_unknown_config_key_is_named(task_type):
    raw = dict(GOOD_CONFIGS[task_type], colour="red")
    field, message = one_error(validate_config, task_type, raw)
    assert field == "colour"
    assert message.startswith("unknown setting; allowed: ")


def test_error_message_joins_all_details():
    with pytest.raises(ValidationFailed) as info:
        validate_config("free_text", {"min_length": -1, "max_length": "x"})
    assert info.value.details == [
        {"field": "min_length", "message": "must be at least 0"},
        {"field": "max_length", "message": "must be an integer"},
    ]
    assert info.value.message == "min_length: must be at least 0; max_length: must be an integer"


@pytest.mark.parametrize("task_type", TASK_TYPES)
@pytest.mark.parametrize("data", [None, [], "text"])
def test_item_data_must_be_a_dict(task_type, data):
    config = validate_config(task_type, GOOD_CONFIGS[task_type])
    assert one_error(validate_item_data, task_type, config, data) == ("data", "must be an object")


@pytest.mark.parametrize("task_type", ["single_choice", "multi_label", "rating", "free_text"])
def test_item_data_free_form_for_simple_types(task_type):
    config = validate_config(task_type, GOOD_CONFIGS[task_type])
    data = {"anything": [1, 2]}
    assert validate_item_data(task_type, config, data) is data


def test_answer_from_text_requires_text():
    assert one_error(answer_from_text, "rating", {}, 3) == ("gold", "must be text")


# --- labels (shared by single_choice, multi_label, span) -----------------------------------


def test_labels_are_stripped():
    assert validate_config("single_choice", {"labels": ["  cat ", "bird\n"]}) == {
        "labels": ["cat", "bird"]
    }


def test_every_bad_label_is_reported():
    raw = {"labels": ["cat", " cat ", "", 7, "x" * 201, "   ", "bird"]}
    assert details(validate_config, "single_choice", raw) == [
        {"field": "labels[1]", "message": "duplicate label 'cat'"},
        {"field": "labels[2]", "message": "must not be empty"},
        {"field": "labels[3]", "message": "must be a string"},
        {"field": "labels[4]", "message": "must be at most 200 characters"},
        {"field": "labels[5]", "message": "must not be empty"},
    ]


def test_label_of_exactly_200_chars_is_fine():
    long = "y" * 200
    assert validate_config("single_choice", {"labels": [long, "n"]})["labels"][0] == long


@pytest.mark.parametrize(
    ("task_type", "raw", "message"),
    [
        ("single_choice", {}, "is required"),
        ("single_choice", {"labels": "cat,bird"}, "must be a list of strings"),
        ("single_choice", {"labels": ["cat"]}, "must have at least 2 labels"),
        ("single_choice", {"labels": []}, "must have at least 2 labels"),
        ("multi_label", {"labels": []}, "must have at least 1 label"),
        ("span", {"labels": []}, "must have at least 1 label"),
        ("span", {}, "is required"),
        ("multi_label", {"labels": [f"l{i}" for i in range(201)]}, "must have at most 200 labels"),
    ],
)
def test_label_list_shape(task_type, raw, message):
    assert one_error(validate_config, task_type, raw) == ("labels", message)


def test_200_labels_allowed():
    labels = [f"l{i}" for i in range(200)]
    assert validate_config("single_choice", {"labels": labels}) == {"labels": labels}


# --- single_choice -------------------------------------------------------------------------

SC = {"labels": ["cat", "bird"]}


def test_single_choice_answers():
    assert validate_answer("single_choice", SC, {}, "bird") == "bird"
    assert one_error(validate_answer, "single_choice", SC, {}, "dog") == (
        "answer",
        "'dog' is not one of the labels: cat, bird",
    )
    assert one_error(validate_answer, "single_choice", SC, {}, " cat") == (
        "answer",
        "' cat' is not one of the labels: cat, bird",
    )
    assert one_error(validate_answer, "single_choice", SC, {}, ["cat"]) == (
        "answer",
        "must be a string",
    )
    assert one_error(validate_answer, "single_choice", SC, {}, None) == (
        "answer",
        "must be a string",
    )


def test_single_choice_long_label_list_is_abbreviated_in_message():
    config = validate_config("single_choice", {"labels": [f"l{i}" for i in range(12)]})
    _, message = one_error(validate_answer, "single_choice", config, {}, "zz")
    assert (
        message == "'zz' is not one of the labels: l0, l1, l2, l3, l4, l5, l6, l7, l8, l9, "
        "... (2 more)"
    )


def test_single_choice_from_text_is_verbatim():
    assert answer_from_text("single_choice", SC, " cat ") == " cat "
    assert answer_from_text("single_choice", SC, "") == ""


# --- multi_label ---------------------------------------------------------------------------


def test_multi_label_defaults():
    assert validate_config("multi_label", {"labels": ["a", "b", "c"]}) == {
        "labels": ["a", "b", "c"],
        "min_choices": 0,
        "max_choices": 3,
    }
    assert validate_config("multi_label", {"labels": ["a"], "min_choices": 1}) == {
        "labels": ["a"],
        "min_choices": 1,
        "max_choices": 1,
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"labels": ["a", "b"], "min_choices": -1}, [("min_choices", "must be at least 0")]),
        ({"labels": ["a", "b"], "min_choices": True}, [("min_choices", "must be an integer")]),
        ({"labels": ["a", "b"], "min_choices": 1.0}, [("min_choices", "must be an integer")]),
        ({"labels": ["a", "b"], "max_choices": False}, [("max_choices", "must be an integer")]),
        ({"labels": ["a", "b"], "max_choices": 0}, [("max_choices", "must be at least 1")]),
        (
            {"labels": ["a", "b"], "max_choices": 3},
            [("max_choices", "must be at most the number of labels (2)")],
        ),
        (
            {"labels": ["a", "b"], "min_choices": 3},
            [("min_choices", "must be at most the number of labels (2)")],
        ),
        (
            {"labels": ["a", "b", "c"], "min_choices": 2, "max_choices": 1},
            [("max_choices", "must be at least min_choices (2)")],
        ),
        (
            {"labels": [], "min_choices": "1", "max_choices": None, "other": 1},
            [
                ("other", "unknown setting; allowed: labels, min_choices, max_choices"),
                ("labels", "must have at least 1 label"),
                ("min_choices", "must be an integer"),
                ("max_choices", "must be an integer"),
            ],
        ),
    ],
)
def test_multi_label_bad_configs(raw, expected):
    found = details(validate_config, "multi_label", raw)
    assert [(d["field"], d["message"]) for d in found] == expected


ML = {"labels": ["red", "green", "blue"], "min_choices": 1, "max_choices": 2}


def test_multi_label_answer_normalised_to_label_order():
    assert validate_answer("multi_label", ML, {}, ["blue", "red"]) == ["red", "blue"]
    assert validate_answer("multi_label", ML, {}, ["green"]) == ["green"]


def test_multi_label_empty_answer_allowed_when_min_zero():
    config = validate_config("multi_label", {"labels": ["x", "y"]})
    assert validate_answer("multi_label", config, {}, []) == []


def test_multi_label_bad_answers():
    assert one_error(validate_answer, "multi_label", ML, {}, "red") == (
        "answer",
        "must be a list of labels",
    )
    assert one_error(validate_answer, "multi_label", ML, {}, []) == (
        "answer",
        "choose at least 1 label",
    )
    assert one_error(validate_answer, "multi_label", ML, {}, ["red", "green", "blue"]) == (
        "answer",
        "choose at most 2 labels",
    )
    assert details(validate_answer, "multi_label", ML, {}, ["red", "pink", 3, "red"]) == [
        {"field": "answer[1]", "message": "'pink' is not one of the labels: red, green, blue"},
        {"field": "answer[2]", "message": "must be a string"},
        {"field": "answer[3]", "message": "duplicate label 'red'"},
        {"field": "answer", "message": "choose at most 2 labels"},
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('["blue", "red"]', ["blue", "red"]),
        ("  []", []),
        ("blue|red", ["blue", "red"]),
        (" blue | red |", ["blue", "red"]),
        ("green", ["green"]),
        ("", []),
    ],
)
def test_multi_label_from_text(text, expected):
    assert answer_from_text("multi_label", ML, text) == expected


@pytest.mark.parametrize("text", ["[blue", '["a",]', "[1, 2"])
def test_multi_label_from_text_bad_json(text):
    assert one_error(answer_from_text, "multi_label", ML, text) == (
        "gold",
        "is not a valid JSON list",
    )


def test_multi_label_from_text_then_validate():
    value = answer_from_text("multi_label", ML, "blue|red")
    assert validate_answer("multi_label", ML, {}, value) == ["red", "blue"]


# --- pairwise ------------------------------------------------------------------------------


def test_pairwise_defaults():
    assert validate_config("pairwise", {}) == {
        "allow_tie": True,
        "left_field": "a",
        "right_field": "b",
        "labels": ["A", "B", "tie"],
    }
    assert validate_config(
        "pairwise", {"allow_tie": False, "left_field": "x", "right_field": "y"}
    ) == {"allow_tie": False, "left_field": "x", "right_field": "y", "labels": ["A", "B"]}


def test_pairwise_labels_may_be_given_if_standard():
    assert validate_config("pairwise", {"labels": ["A", "B", "tie"]})["labels"] == ["A", "B", "tie"]
    no_tie = validate_config("pairwise", {"allow_tie": False, "labels": ["A", "B", "tie"]})
    assert no_tie["labels"] == ["A", "B"]
    assert validate_config("pairwise", no_tie) == no_tie


def test_pairwise_bad_configs():
    raw = {"allow_tie": 1, "left_field": "", "right_field": 5, "labels": ["x", "y"]}
    assert fields(validate_config, "pairwise", raw) == [
        "allow_tie",
        "left_field",
        "right_field",
        "labels",
    ]
    assert one_error(validate_config, "pairwise", {"allow_tie": 0}) == (
        "allow_tie",
        "must be true or false",
    )
    assert one_error(validate_config, "pairwise", {"left_field": "b"}) == (
        "right_field",
        "must differ from left_field",
    )
    assert one_error(validate_config, "pairwise", {"labels": ["A", "B"]})[0] == "labels"


PW = validate_config("pairwise", {"allow_tie": False, "left_field": "left", "right_field": "right"})


def test_pairwise_item_data():
    data = {"left": "one", "right": {"url": "x.png"}}
    assert validate_item_data("pairwise", PW, data) is data
    assert details(validate_item_data, "pairwise", PW, {"left": None}) == [
        {"field": "data.left", "message": "is required"},
        {"field": "data.right", "message": "is required"},
    ]


def test_pairwise_answers():
    data = {"left": "one", "right": "two"}
    assert validate_answer("pairwise", PW, data, "A") == "A"
    assert validate_answer("pairwise", PW, data, "B") == "B"
    assert one_error(validate_answer, "pairwise", PW, data, "tie") == (
        "answer",
        "'tie' is not one of the labels: A, B",
    )
    with_tie = validate_config("pairwise", {})
    assert validate_answer("pairwise", with_tie, {"a": 1, "b": 2}, "tie") == "tie"
    assert fields(validate_answer, "pairwise", with_tie, {"a": 1, "b": 2}, "a") == ["answer"]
    assert answer_from_text("pairwise", with_tie, "tie") == "tie"


def test_pairwise_answer_checks_item_data_first():
    assert fields(validate_answer, "pairwise", PW, {"left": 1}, "A") == ["data.right"]


# --- rating --------------------------------------------------------------------------------


def test_rating_defaults_and_anchors():
    assert validate_config("rating", {}) == {"min": 1, "max": 5, "anchors": {}}
    raw = {"min": 0, "max": 10, "anchors": {"0": " awful ", "10": "great"}}
    assert validate_config("rating", raw) == {
        "min": 0,
        "max": 10,
        "anchors": {"0": "awful", "10": "great"},
    }
    assert validate_config("rating", {"min": -3, "max": 97})["max"] == 97


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"min": True}, [("min", "must be an integer")]),
        ({"max": 5.0}, [("max", "must be an integer")]),
        ({"min": 5, "max": 5}, [("max", "must be greater than min (5)")]),
        ({"min": 1, "max": 102}, [("max", "must be at most 101 (a scale has at most 100 steps)")]),
        ({"anchors": ["poor"]}, [("anchors", "must be an object mapping scale points to labels")]),
        ({"anchors": {"6": "x"}}, [("anchors.6", "is outside the scale 1..5")]),
        (
            {"anchors": {"03": "x"}},
            [("anchors.03", "key must be a whole number written as a string, like '3'")],
        ),
        ({"anchors": {"2": ""}}, [("anchors.2", "must not be empty")]),
        ({"anchors": {"2": 2}}, [("anchors.2", "must be a string")]),
        ({"labels": {"1": "x"}}, [("labels", "unknown setting; allowed: min, max, anchors")]),
        (
            {"min": "1", "max": [], "anchors": {"x": "y", "3": None}},
            [
                ("min", "must be an integer"),
                ("max", "must be an integer"),
                ("anchors.x", "key must be a whole number written as a string, like '3'"),
                ("anchors.3", "must be a string"),
            ],
        ),
    ],
)
def test_rating_bad_configs(raw, expected):
    found = details(validate_config, "rating", raw)
    assert [(d["field"], d["message"]) for d in found] == expected


RT = {"min": 1, "max": 5, "anchors": {}}


@pytest.mark.parametrize("value", [1, 3, 5])
def test_rating_good_answers(value):
    assert validate_answer("rating", RT, {}, value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "must be between 1 and 5"),
        (6, "must be between 1 and 5"),
        (True, "must be an integer"),
        (False, "must be an integer"),
        (3.0, "must be an integer"),
        ("3", "must be an integer"),
        (None, "must be an integer"),
    ],
)
def test_rating_bad_answers(value, message):
    assert one_error(validate_answer, "rating", RT, {}, value) == ("answer", message)


@pytest.mark.parametrize(("text", "expected"), [("3", 3), (" 4 ", 4), ("+2", 2), ("-1", -1)])
def test_rating_from_text(text, expected):
    value = answer_from_text("rating", RT, text)
    assert value == expected and type(value) is int


@pytest.mark.parametrize("text", ["", "3.0", "three", "1_0", "٣", "3 4"])
def test_rating_from_text_refuses(text):
    field, message = one_error(answer_from_text, "rating", RT, text)
    assert field == "gold" and message.endswith("is not a whole number")


# --- free_text -----------------------------------------------------------------------------


def test_free_text_defaults():
    assert validate_config("free_text", {}) == {"min_length": 1, "max_length": 2000}
    assert validate_config("free_text", {"min_length": 0, "max_length": 100_000}) == {
        "min_length": 0,
        "max_length": 100_000,
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"min_length": False}, [("min_length", "must be an integer")]),
        ({"max_length": True}, [("max_length", "must be an integer")]),
        ({"max_length": 100_001}, [("max_length", "must be at most 100000")]),
        ({"max_length": 0}, [("max_length", "must be at least 1")]),
        ({"min_length": 10, "max_length": 5}, [("max_length", "must be at least min_length (10)")]),
        ({"min_length": 2001}, [("min_length", "must be at most max_length (2000)")]),
    ],
)
def test_free_text_bad_configs(raw, expected):
    found = details(validate_config, "free_text", raw)
    assert [(d["field"], d["message"]) for d in found] == expected


FT = {"min_length": 3, "max_length": 5}


def test_free_text_answers():
    assert validate_answer("free_text", FT, {}, "  héllo \n") == "héllo"
    assert validate_answer("free_text", FT, {}, "abc") == "abc"
    assert one_error(validate_answer, "free_text", FT, {}, "  ab   ") == (
        "answer",
        "must be at least 3 characters",
    )
    assert one_error(validate_answer, "free_text", FT, {}, "abcdef") == (
        "answer",
        "must be at most 5 characters",
    )
    assert one_error(validate_answer, "free_text", FT, {}, 12345) == ("answer", "must be a string")
    default = validate_config("free_text", {})
    assert one_error(validate_answer, "free_text", default, {}, "   ") == (
        "answer",
        "must be at least 1 character",
    )
    assert answer_from_text("free_text", FT, " as is ") == " as is "


# --- span ----------------------------------------------------------------------------------


def test_span_defaults():
    assert validate_config("span", {"labels": ["PER", "ORG"]}) == {
        "labels": ["PER", "ORG"],
        "text_field": "text",
        "allow_overlap": False,
    }
    assert validate_config(
        "span", {"labels": ["X"], "text_field": "body", "allow_overlap": True}
    ) == {"labels": ["X"], "text_field": "body", "allow_overlap": True}


def test_span_bad_config_reports_everything():
    raw = {"labels": ["PER", "PER"], "text_field": 3, "allow_overlap": 1}
    assert details(validate_config, "span", raw) == [
        {"field": "labels[1]", "message": "duplicate label 'PER'"},
        {"field": "text_field", "message": "must be a non-empty string of at most 200 characters"},
        {"field": "allow_overlap", "message": "must be true or false"},
    ]


SP = validate_config("span", {"labels": ["PER", "LOC"]})
TEXT = "Zoë went to Åre 🎿."  # non-ASCII: "Zoë" is 3 code points, the emoji is 1
DATA = {"text": TEXT}


def test_span_item_data():
    assert validate_item_data("span", SP, DATA) is DATA
    assert one_error(validate_item_data, "span", SP, {"body": "x"}) == ("data.text", "is required")
    assert one_error(validate_item_data, "span", SP, {"text": ["x"]}) == (
        "data.text",
        "must be a string",
    )
    body = validate_config("span", {"labels": ["X"], "text_field": "body"})
    assert one_error(validate_item_data, "span", body, {"text": "x"}) == (
        "data.body",
        "is required",
    )


def test_span_answer_code_point_offsets_and_sorting():
    assert TEXT[0:3] == "Zoë" and TEXT[12:15] == "Åre" and len(TEXT) == 18
    answer = [{"label": "LOC", "end": 15, "start": 12}, {"start": 0, "end": 3, "label": "PER"}]
    assert validate_answer("span", SP, DATA, answer) == [
        {"start": 0, "end": 3, "label": "PER"},
        {"start": 12, "end": 15, "label": "LOC"},
    ]
    whole = [{"start": 0, "end": 18, "label": "PER"}]
    assert validate_answer("span", SP, DATA, whole) == whole
    assert validate_answer("span", SP, DATA, []) == []


def test_span_bounds():
    def check(start, end):
        return details(
            validate_answer, "span", SP, DATA, [{"start": start, "end": end, "label": "PER"}]
        )

    assert check(0, 19) == [
        {"field": "answer[0].end", "message": "must be at most the text length (18)"}
    ]
    assert check(-1, 2) == [{"field": "answer[0].start", "message": "must be at least 0"}]
    assert check(4, 4) == [{"field": "answer[0].end", "message": "must be greater than start (4)"}]
    assert check(5, 2) == [{"field": "answer[0].end", "message": "must be greater than start (5)"}]


def test_span_bad_shapes_all_reported():
    answer = [
        "0-3",
        {"start": True, "end": 2.0, "label": "PER"},
        {"start": 0, "label": "ORG", "note": "x"},
        {"start": 0, "end": 1, "label": 5},
    ]
    assert details(validate_answer, "span", SP, DATA, answer) == [
        {"field": "answer[0]", "message": "must be an object with start, end and label"},
        {"field": "answer[1].start", "message": "must be an integer"},
        {"field": "answer[1].end", "message": "must be an integer"},
        {"field": "answer[2]", "message": "unknown keys: note"},
        {"field": "answer[2].end", "message": "is required"},
        {"field": "answer[2].label", "message": "'ORG' is not one of the labels: PER, LOC"},
        {"field": "answer[3].label", "message": "must be a string"},
    ]
    assert one_error(validate_answer, "span", SP, DATA, {"start": 0}) == (
        "answer",
        "must be a list of spans",
    )


def test_span_overlap_refused_unless_allowed():
    answer = [
        {"start": 4, "end": 8, "label": "LOC"},
        {"start": 0, "end": 5, "label": "PER"},
        {"start": 8, "end": 10, "label": "PER"},
    ]
    assert details(validate_answer, "span", SP, DATA, answer) == [
        {"field": "answer[0]", "message": "overlaps answer[1]"}
    ]
    overlap = dict(SP, allow_overlap=True)
    assert validate_answer("span", overlap, DATA, answer) == [
        {"start": 0, "end": 5, "label": "PER"},
        {"start": 4, "end": 8, "label": "LOC"},
        {"start": 8, "end": 10, "label": "PER"},
    ]
    same_range = [{"start": 0, "end": 3, "label": "PER"}, {"start": 0, "end": 3, "label": "LOC"}]
    assert validate_answer("span", overlap, DATA, same_range) == [
        {"start": 0, "end": 3, "label": "LOC"},
        {"start": 0, "end": 3, "label": "PER"},
    ]
    assert fields(validate_answer, "span", SP, DATA, same_range) == ["answer[0]"]


def test_span_touching_spans_do_not_overlap():
    answer = [{"start": 0, "end": 3, "label": "PER"}, {"start": 3, "end": 4, "label": "LOC"}]
    assert validate_answer("span", SP, DATA, answer) == answer


def test_span_duplicates_refused_even_with_overlap_allowed():
    span = {"start": 0, "end": 3, "label": "PER"}
    for config in (SP, dict(SP, allow_overlap=True)):
        assert details(validate_answer, "span", config, DATA, [span, dict(span)]) == [
            {"field": "answer[1]", "message": "duplicate span (same as answer[0])"}
        ]


def test_span_answer_checks_item_data_first():
    assert fields(validate_answer, "span", SP, {"txt": "x"}, []) == ["data.text"]


def test_span_from_text():
    text = '[{"start": 0, "end": 3, "label": "PER"}]'
    value = answer_from_text("span", SP, text)
    assert value == [{"start": 0, "end": 3, "label": "PER"}]
    assert validate_answer("span", SP, DATA, value) == value
    assert answer_from_text("span", SP, "[]") == []
    assert one_error(answer_from_text, "span", SP, "0-3 PER") == ("gold", "is not valid JSON")
    assert one_error(answer_from_text, "span", SP, "") == ("gold", "is not valid JSON")


# --- properties ----------------------------------------------------------------------------

label_text = st.text(min_size=1, max_size=30).map(str.strip).filter(bool)
label_lists = st.lists(label_text, min_size=2, max_size=25, unique=True)


@settings(max_examples=150, deadline=None)
@given(labels=label_lists, data=st.data())
def test_single_choice_property(labels, data):
    config = validate_config("single_choice", {"labels": labels})
    assert config == {"labels": labels}
    choice = data.draw(st.sampled_from(labels))
    once = validate_answer("single_choice", config, {}, choice)
    assert once == choice
    assert validate_answer("single_choice", config, {}, once) == once
    other = data.draw(st.text(max_size=30).filter(lambda s: s not in labels))
    assert fields(validate_answer, "single_choice", config, {}, other) == ["answer"]


@settings(max_examples=150, deadline=None)
@given(labels=st.lists(label_text, min_size=1, max_size=25, unique=True), data=st.data())
def test_multi_label_property(labels, data):
    config = validate_config("multi_label", {"labels": labels})
    assert config == {"labels": labels, "min_choices": 0, "max_choices": len(labels)}
    chosen = data.draw(st.lists(st.sampled_from(labels), unique=True))
    once = validate_answer("multi_label", config, {}, chosen)
    assert sorted(once) == sorted(chosen)
    assert once == [label for label in labels if label in chosen]
    assert validate_answer("multi_label", config, {}, once) == once
    other = data.draw(st.text(max_size=30).filter(lambda s: s not in labels))
    chosen = chosen[: len(labels) - 1]
    assert fields(validate_answer, "multi_label", config, {}, chosen + [other]) == [
        f"answer[{len(chosen)}]"
    ]
