"""The second SDK generation: the SDK-facing tests again under anthropic 0.x (on httpx).

The main venv holds the current SDK (1.x/2.x, on httpx2); one venv cannot hold both. The venv
is made with uv when it is installed (the test extra installs it): seconds instead of a minute
of pip on a fresh machine."""

import nox

nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_existing_virtualenvs = True


@nox.session(name="sdk-legacy")
def sdk_legacy(session: nox.Session) -> None:
    session.install("-e", ".[test]", "anthropic>=0.40,<1")
    session.run("python", "-c", "import anthropic; print('anthropic', anthropic.__version__)")
    session.run("pytest", "-m", "sdk", "-n", "auto", "--dist", "worksteal", *session.posargs)
