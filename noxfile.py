"""Sessions beside the main test run (`bash scripts/test`).

- `sdk-legacy`: the SDK-facing tests again under anthropic 0.x (on httpx). The main venv holds
  the current SDK (1.x/2.x, on httpx2); one venv cannot hold both. Installed from the lock.
- `lock`: refresh the lock files from the newest releases (then run the tests, and commit).

The venvs are made with uv when it is installed (the test extra installs it): seconds instead
of a minute of pip on a fresh machine."""

from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_existing_virtualenvs = True

LOCKS = Path("requirements")


@nox.session(name="sdk-legacy")
def sdk_legacy(session: nox.Session) -> None:
    session.install("-c", str(LOCKS / "sdk-legacy.txt"), "-e", ".[test]", "anthropic>=0.40,<1")
    session.run("python", "-c", "import anthropic; print('anthropic', anthropic.__version__)")
    session.run("pytest", "-m", "sdk", "-n", "auto", "--dist", "worksteal", *session.posargs)


@nox.session(venv_backend="none")
def lock(session: nox.Session) -> None:
    """Pin every package of both test environments to its newest release (uv's resolver)."""
    common = ["--universal", "--python-version", "3.10", "--upgrade", "-q"]
    common += ["--custom-compile-command", "nox -s lock"]
    inputs = ["pyproject.toml", str(LOCKS / "bootstrap.in")]
    session.run(
        "uv", "pip", "compile", *inputs, "--extra", "test", "--extra", "frameworks",
        *common, "-o", str(LOCKS / "test.txt"),
    )  # fmt: skip
    session.run(
        "uv", "pip", "compile", *inputs, str(LOCKS / "sdk-legacy.in"), "--extra", "test",
        *common, "-o", str(LOCKS / "sdk-legacy.txt"),
    )  # fmt: skip
