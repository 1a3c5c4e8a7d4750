"""The docs say what the fake does: the README's error table is the engine's output."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.error_table import splice

ROOT = Path(__file__).resolve().parents[1]


def test_readme_error_table_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert splice(readme) == readme, "run: python -m tools.error_table README.md"


def _blocks(language: str) -> list[str]:
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", readme, flags=re.S)


def test_readme_scripting_snippet_runs() -> None:
    (snippet,) = [b for b in _blocks("py") if "fake = MockSpike()" in b]
    namespace: dict[str, object] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    fake = namespace["fake"]
    assert len(fake.rules) == 16  # type: ignore[attr-defined]


def test_readme_config_example_loads(tmp_path: Path) -> None:
    from mockspike import GatewayConfig

    example = next(b for b in _blocks("yaml") if b.startswith("keys:"))
    path = tmp_path / "gateway.yaml"
    path.write_text(example)
    config = GatewayConfig.load(path)
    assert config.keys["sk-alice"].wallet == 25.0
    assert config.keys["sk-old"].revoked


def test_readme_script_file_example_loads(tmp_path: Path) -> None:
    from mockspike import MockSpike

    example = next(b for b in _blocks("yaml") if b.startswith("rules:"))
    path = tmp_path / "rules.yaml"
    path.write_text(example)
    rules = MockSpike().load_script(path)
    assert [r.describe() for r in rules] == [
        "rule #1 'weather' on(model='claude-haiku-4-5', text='weather')",
        "rule #2 on(text='overloaded')",
        "rule #3 on(stream=True)",
    ]


def test_readme_replay_example_runs_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (snippet,) = [b for b in _blocks("python") if "examples.path(" in b]
    monkeypatch.chdir(tmp_path)  # a user's project, not this repository: the cassette ships
    exec(compile(snippet, "README.md", "exec"), {})


def test_readme_hypothesis_profile_snippet_loads_a_profile() -> None:
    import os

    from hypothesis import settings

    (snippet,) = [b for b in _blocks("py") if "register_profile" in b]
    exec(compile(snippet, "README.md", "exec"), {})
    wanted = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
    assert settings.default.max_examples == wanted.max_examples


def test_readme_script_file_example_has_no_rule_that_can_never_fire() -> None:
    import yaml

    example = next(b for b in _blocks("yaml") if b.startswith("rules:"))
    rules = yaml.safe_load(example)["rules"]
    catch_all = [i for i, r in enumerate(rules) if not r.get("match") and not r.get("times")]
    assert all(i == len(rules) - 1 for i in catch_all), "a rule after a catch-all never fires"


def test_readme_batches_and_files_example_runs() -> None:
    (snippet,) = [b for b in _blocks("python") if "client.messages.batches.create" in b]
    exec(compile(snippet, "README.md", "exec"), {})


def test_readme_dashboard_example_runs() -> None:
    (snippet,) = [b for b in _blocks("python") if "fake.dashboard()" in b]
    exec(compile(snippet, "README.md", "exec"), {})


def _examples() -> dict[str, str]:
    return {
        block.split("\n", 1)[0].removeprefix("# example: "): block
        for block in _blocks("python")
        if block.startswith("# example: ")
    }


def test_rich_reply_examples_are_in_the_readme() -> None:
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
def test_readme_rich_reply_example_runs(name: str) -> None:
    import anthropic

    if name == "structured outputs" and not hasattr(anthropic.resources.Messages, "parse"):
        pytest.skip("this SDK generation has no messages.parse")
    exec(compile(_examples()[name], f"README.md ({name})", "exec"), {})
