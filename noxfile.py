"""Sessions beside the main test run (`bash scripts/test`).

- `sdk-legacy`: the SDK-facing tests again under anthropic 0.x (on httpx). The main venv holds
  the current SDK (1.x/2.x, on httpx2); one venv cannot hold both. Installed from the lock.
- `lock`: refresh the lock files from the newest releases (then run the tests, and commit).
- `drift`: the NEWEST SDKs (no lock) against the fake: `tools/drift.py` lists what they know
  that the fake lacks (exit 1), then the suite runs with every reply validated against the
  newest SDK's response types (`-p tools.reply_check`). Arguments go to pytest.
- `regenerate`: rewrite the data files the (locked) SDK is the source of (`tools/regenerate.py`).

The venvs are made with uv when it is installed (the test extra installs it): seconds instead
of a minute of pip on a fresh machine."""

import shutil
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


@nox.session
def drift(session: nox.Session) -> None:
    """What the newest `anthropic` (and `@anthropic-ai/sdk`, where npm exists) know that the
    fake does not; then the suite, every reply checked against the newest SDK's types."""
    session.install("-e", ".[test,frameworks]")
    session.install("--upgrade", "anthropic")
    session.run("python", "-c", "import anthropic; print('anthropic', anthropic.__version__)")
    typescript: list[str] = []
    if shutil.which("npm"):
        tmp = session.create_tmp()
        session.run(
            "npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", tmp,
            "@anthropic-ai/sdk@latest", external=True,
        )  # fmt: skip
        typescript = ["--typescript", str(Path(tmp) / "node_modules" / "@anthropic-ai" / "sdk")]
    else:
        session.warn("npm not found: the TypeScript SDK is not compared")
    session.run("python", "-m", "tools.drift", *typescript)
    args = session.posargs or ["-n", "auto", "--dist", "worksteal", "-q"]
    session.run("pytest", "-p", "tools.reply_check", *args)


@nox.session
def regenerate(session: nox.Session) -> None:
    """Rewrite the data derived from the SDK, with the locked SDK (`--check`: only say what
    would change)."""
    session.install("-c", str(LOCKS / "test.txt"), "-e", ".[test]")
    session.run("python", "-m", "tools.regenerate", *session.posargs)
