"""docs/config.md is generated from the schema and must be up to date."""

from pathlib import Path

from tnmbl.runs.schema import schema_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_options_table_is_up_to_date():
    assert DOC.read_text() == schema_markdown(), \
        "docs/config.md is out of date: regenerate it with `tnmbl schema -o docs/config.md`"


def test_options_table_lists_every_registered_model_and_method():
    from tnmbl.engines import METHODS
    from tnmbl.models import MODELS

    text = schema_markdown()
    assert all(f"### model `{m}`" in text for m in MODELS)
    assert all(f"`{m}`" in text for m in METHODS)
