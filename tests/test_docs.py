"""The examples of the documentation that are not test modules of their own (snippets,
scripts, data files) do what the page says; they are found by page and heading, so moving
one without its test fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs_pages import block, blocks


def test_the_scripting_snippet_runs() -> None:
    snippet = block("how-to/scripting.md", "py", "fake = MockSpike()")
    namespace: dict[str, object] = {}
    exec(compile(snippet, "how-to/scripting.md", "exec"), namespace)
    fake = namespace["fake"]
    assert len(fake.rules) == 17  # type: ignore[attr-defined]


def test_the_gateway_config_example_loads(tmp_path: Path) -> None:
    from mockspike import GatewayConfig

    (example,) = [b for b in blocks("how-to/gateway.md", "yaml") if b.startswith("keys:")]
    path = tmp_path / "gateway.yaml"
    path.write_text(example)
    config = GatewayConfig.load(path)
    assert config.keys["sk-alice"].wallet == 25.0
    assert config.keys["sk-old"].revoked


def _script_example() -> str:
    (example,) = [b for b in blocks("how-to/script-files.md", "yaml") if b.startswith("rules:")]
    return example


def test_the_script_file_example_loads(tmp_path: Path) -> None:
    from mockspike import MockSpike

    path = tmp_path / "rules.yaml"
    path.write_text(_script_example())
    rules = MockSpike().load_script(path)
    assert [r.describe() for r in rules] == [
        "rule #1 'weather' on(model='claude-haiku-4-5', text='weather')",
        "rule #2 on(text='overloaded')",
        "rule #3 on(stream=True)",
    ]


def test_the_script_file_example_has_no_rule_that_can_never_fire() -> None:
    import yaml

    rules = yaml.safe_load(_script_example())["rules"]
    catch_all = [i for i, r in enumerate(rules) if not r.get("match") and not r.get("times")]
    assert all(i == len(rules) - 1 for i in catch_all), "a rule after a catch-all never fires"


def test_the_hypothesis_profile_snippet_loads_a_profile() -> None:
    import os

    from hypothesis import settings

    snippet = block("tutorial/first-contract-test.md", "py", "register_profile")
    exec(compile(snippet, "tutorial/first-contract-test.md", "exec"), {})
    wanted = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    assert settings.default.max_examples == wanted.max_examples


def test_the_batches_and_files_example_runs() -> None:
    snippet = block("how-to/batches-files.md", "py", "client.messages.batches.create")
    exec(compile(snippet, "how-to/batches-files.md", "exec"), {})


def _examples() -> dict[str, str]:
    return {
        snippet.split("\n", 1)[0].removeprefix("# example: "): snippet
        for snippet in blocks("how-to/rich-replies.md", "py")
        if snippet.startswith("# example: ")
    }


def test_the_rich_reply_examples_are_on_their_page() -> None:
    assert set(_examples()) >= {
        "structured outputs",
        "server-tool turns",
        "stop reasons",
        "agent mode",
    }


@pytest.mark.sdk
@pytest.mark.parametrize(
    "name", ["structured outputs", "server-tool turns", "stop reasons", "agent mode"]
)
def test_the_rich_reply_example_runs(name: str) -> None:
    import anthropic

    if name == "structured outputs" and not hasattr(anthropic.resources.Messages, "parse"):
        pytest.skip("this SDK generation has no messages.parse")
    exec(compile(_examples()[name], f"how-to/rich-replies.md ({name})", "exec"), {})
