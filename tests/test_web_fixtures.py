"""The frontend's generated files match the Python side (python -m tests.web_fixtures)."""

from __future__ import annotations

from tests import web_fixtures


def test_the_frontends_capability_file_is_the_python_capability_table() -> None:
    expected = web_fixtures.rendered(web_fixtures.capabilities())
    assert web_fixtures.CAPABILITIES.read_text(encoding="utf-8") == expected


def test_the_node_tests_definitions_are_the_nodes_input_types() -> None:
    expected = web_fixtures.rendered(web_fixtures.object_info())
    assert web_fixtures.OBJECT_INFO.read_text(encoding="utf-8") == expected
