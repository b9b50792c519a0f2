"""docs/configuration.md is generated from the settings models and must be current."""

from __future__ import annotations

from pathlib import Path

from hub.config.reference import render

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_is_current() -> None:
    checked_in = (ROOT / "docs" / "configuration.md").read_text()
    assert checked_in == render(), "docs/configuration.md is stale: run `make docs`"


def test_every_section_of_the_example_is_documented() -> None:
    import tomllib

    example = tomllib.loads((ROOT / "config" / "hub.example.toml").read_text())
    text = render()
    for table, value in example.items():
        if table in ("providers", "models", "connectors"):
            for name in value if table == "connectors" else ():
                assert f"## `[connectors.{name}]`" in text
            continue
        assert f"## `[{table}]`" in text


def test_every_connector_brings_its_settings_model() -> None:
    from hub.config.connectors import section_models

    models = section_models()
    packages = sorted(p.parent.name for p in (ROOT / "connectors").glob("*/plugin.py"))
    assert sorted(name for name, model in models.items() if model is not None) == packages
