"""Every registered source keeps the contract: declared needs, pure converter, golden
fixtures, a docs page in the site's nav, and a place on the demo server."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
import yaml

from fetch.demo.run import demo_api_base
from fetch.sources import registry
from fetch.sources.base import AccountConfig, Source

ROOT = Path(__file__).resolve().parent.parent
SOURCES = registry.all_sources()


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, list):
        return [page for item in nav for page in _nav_pages(item)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_source_declares_name_label_params_and_secrets(source: Source) -> None:
    assert source.name.isidentifier() and source.name == source.name.lower()
    assert source.label
    assert source.params, "a source must say what identifies an account"
    for param in source.params:
        assert param.description, param.name
    for secret in source.secrets:
        assert secret.description, secret.name
    assert registry.get(source.name) is source


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_source_module_has_a_pure_converter_and_a_docstring(source: Source) -> None:
    module = importlib.import_module(type(source).__module__)
    assert module.__doc__ and "http" in module.__doc__, "link the platform's API docs"
    to_post = getattr(module, "to_post", None)
    assert callable(to_post)
    assert list(inspect.signature(to_post).parameters)[:2] == ["raw", "account"]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_source_has_golden_fixtures(source: Source) -> None:
    folder = ROOT / "tests" / "fixtures" / source.name
    cases = [p for p in folder.glob("*.json") if not p.name.endswith(".expected.json")]
    assert cases, f"no fixtures in {folder}"
    for case in cases:
        assert case.with_name(case.stem + ".expected.json").exists(), case


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_source_has_a_docs_page_in_the_nav(source: Source) -> None:
    page = ROOT / "docs" / source.docs
    assert page.exists(), page
    text = page.read_text(encoding="utf-8")
    assert "aushang.yml" in text, "the page must show the config entry"
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    assert source.docs in _nav_pages(nav)
    overview = (ROOT / "docs" / "plattformen" / "index.md").read_text(encoding="utf-8")
    assert Path(source.docs).name in overview


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_source_is_served_by_the_demo_server(source: Source) -> None:
    from fetch.demo.server import DemoServer

    params = {p.name: p.example or "x" for p in source.params}
    account = AccountConfig(key="k", platform=source.name, name="k", api_base="", params=params)
    base = demo_api_base(account, "http://127.0.0.1:1")
    prefix = base.removeprefix("http://127.0.0.1:1")
    server = DemoServer()
    assert any(
        prefix.startswith(handler_prefix.rstrip("/")) for handler_prefix, _ in server.handlers
    )


def test_demo_config_has_an_account_of_every_source() -> None:
    data = yaml.safe_load((ROOT / "aushang.yml").read_text(encoding="utf-8"))
    assert {a["platform"] for a in data["accounts"]} == set(registry.SOURCES)
