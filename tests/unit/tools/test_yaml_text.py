"""tools/yaml_text: libyaml's speed with the results and error messages of PyYAML's own safe parser."""

from __future__ import annotations

import datetime

import pytest
import yaml

from tools import yaml_text

DOCUMENT = """\
config:
  brain:backend: &backend {replicas: 3, image: ""}
  brain:copy: *backend
  brain:review: 2026-12-04
  brain:switches: [yes, no, on, off, ~, 0x10, 1_000, 1e3, .inf]
  brain:text: "30s"
"""


def test_load_returns_what_the_safe_loader_returns() -> None:
    loaded = yaml_text.load(DOCUMENT)
    assert loaded == yaml.safe_load(DOCUMENT)
    assert loaded["config"]["brain:review"] == datetime.date(2026, 12, 4)
    assert loaded["config"]["brain:copy"] == {"replicas": 3, "image": ""}


def test_load_all_returns_every_document() -> None:
    text = "a: 1\n---\nb: [2]\n---\n"
    assert yaml_text.load_all(text) == list(yaml.safe_load_all(text)) == [{"a": 1}, {"b": [2]}, None]


def test_a_syntax_error_names_the_offending_character() -> None:
    with pytest.raises(yaml.MarkedYAMLError) as error:
        yaml_text.load('x: "\\q"')
    assert error.value.problem == "found unknown escape character 'q'"
    assert error.value.problem_mark is not None and error.value.problem_mark.column == 5
