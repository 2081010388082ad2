"""Parameter editors generated from a Param's kind, and how typed text becomes a value."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from engine.errors import ParamError
from engine.layers import CATALOGUE
from engine.layers.spec import Param
from nodeeditor.panels.param_widgets import make_field, parse_text

KINDS = [
    (Param("n", "int", 3, "", minimum=1, maximum=9), QSpinBox),
    (Param("p", "float", 0.5, "", minimum=0.0, maximum=1.0), QDoubleSpinBox),
    (Param("b", "bool", True, ""), QCheckBox),
    (Param("c", "choice", "a", "", choices=("a", "b")), QComboBox),
    (Param("k", "int_or_tuple", 3, "", minimum=1), QLineEdit),
    (Param("s", "float_or_tuple", 2.0, ""), QLineEdit),
    (Param("shape", "shape", [4], "", minimum=1), QLineEdit),
    (Param("o", "int", None, "", optional=True), QLineEdit),
]


@pytest.mark.parametrize(("param", "widget"), KINDS, ids=[p.kind for p, _ in KINDS])
def test_each_kind_gets_its_widget(qtbot, param, widget):
    field = make_field(param)
    qtbot.addWidget(field)
    assert isinstance(field.editor, widget)
    field.set_value(param.default)


def test_every_catalogue_parameter_has_an_editor_showing_its_default(qtbot):
    for spec in CATALOGUE.values():
        for param in spec.params:
            field = make_field(param)
            qtbot.addWidget(field)
            field.set_value(param.default)
            assert field.editor.toolTip() == param.help


def test_spin_box_range_follows_the_param(qtbot):
    field = make_field(Param("n", "int", 3, "", minimum=1, maximum=9))
    qtbot.addWidget(field)
    assert (field.editor.minimum(), field.editor.maximum()) == (1, 9)
    committed = []
    field.commit_requested.connect(committed.append)
    field.set_value(9)
    field.editor.setFocus()
    qtbot.keyClick(field.editor, Qt.Key.Key_Up)
    field.set_value(1)
    qtbot.keyClick(field.editor, Qt.Key.Key_Up)
    assert committed == [2]


@pytest.mark.parametrize(
    ("kind", "text", "value"),
    [
        ("int_or_tuple", "3", 3),
        ("int_or_tuple", "3, 5", [3, 5]),
        ("int_or_tuple", "(3, 5)", [3, 5]),
        ("int_or_tuple", "3x5", [3, 5]),
        ("float_or_tuple", "1.5, 2", [1.5, 2.0]),
        ("shape", "1, 28, 28", [1, 28, 28]),
        ("shape", "[64]", [64]),
    ],
)
def test_text_becomes_a_value(kind, text, value):
    assert parse_text(Param("x", kind, 1, ""), text) == value


@pytest.mark.parametrize(
    ("kind", "text"),
    [("int_or_tuple", "3, 4, 5"), ("int_or_tuple", "2.5"), ("shape", ""), ("shape", "a, b")],
)
def test_bad_text_raises_a_sentence_naming_the_param(kind, text):
    with pytest.raises(ParamError, match="x"):
        parse_text(Param("x", kind, 1, ""), text)


def test_optional_number_empty_means_auto():
    assert parse_text(Param("x", "int", None, "", optional=True), "") is None
    assert parse_text(Param("x", "int", None, "", optional=True), "auto") is None


def test_padding_accepts_its_named_choices():
    from engine.layers import get_spec
    from nodeeditor.panels.param_widgets import parse_text

    padding = get_spec("Conv2d").param("padding")
    assert parse_text(padding, "same") == "same"
    assert parse_text(padding, "'valid'") == "valid"
    assert parse_text(padding, "1, 2") == [1, 2]
