"""The layer reference in docs/ is generated from the catalogue and must stay current."""

from pathlib import Path

from engine.commands.layers import catalogue_markdown
from engine.layers import CATALOGUE

DOCS = Path(__file__).parents[2] / "docs" / "layers.md"


def test_docs_layers_md_is_current():
    assert DOCS.read_text() == catalogue_markdown(), (
        "docs/layers.md is out of date: run `deepwire layers --markdown > docs/layers.md`"
    )


def test_every_layer_type_is_documented_with_its_parameters():
    text = catalogue_markdown()
    for spec in CATALOGUE.values():
        assert f"### {spec.name}\n\n{spec.help}\n" in text
        for param in spec.params:
            assert f"| `{param.name}` |" in text
