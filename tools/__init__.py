"""Build-time tools: run by a maintainer (or `nox`), never imported by the package at run
time. `drift` says what the newest SDKs know that the fake does not; `regenerate` rewrites
the data files the SDK is the source of; `reply_check` is the pytest plugin that validates
every reply the fake gives against the SDK's response types."""
