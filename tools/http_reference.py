"""`docs/reference/http-api.md` from the server itself: the API's operations from the OpenAPI
description it serves at `/openapi.json` (both profiles), and the admin routes under
`/_mockspike/` from its routing table. `python -m tools.http_reference` rewrites the page; a
test fails when it is stale, or when an admin route has no line in `ADMIN` below."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mockspike import MockSpike
from mockspike.adapters.admin import admin_routes
from mockspike.adapters.openapi import openapi_document

PAGE = Path(__file__).resolve().parents[1] / "docs" / "reference" / "http-api.md"
PROFILES = ("bytespike", "anthropic")

ADMIN: dict[str, str] = {
    "GET /_mockspike/health": '`{"status": "ok", "profile": …}`; needs no admin token',
    "GET /_mockspike/rules": "the rules, with their call counts",
    "POST /_mockspike/rules": 'add one rule, or `{"rules": [...]}` (the script file\'s format)',
    "DELETE /_mockspike/rules/{number}": "remove rule #number",
    "POST /_mockspike/replies": 'queue a reply: `{"text": "…"}` or `{"content": [...]}`, '
    'optional `"times"`',
    "POST /_mockspike/failures": 'queue a failure: `{"status": 429, "retry_after": 0.5, '
    '"times": 2}`',
    "POST /_mockspike/faults": 'queue a fault: `{"kind": "break", "after": 3, "error": '
    '{"status": 529}}`',
    "GET /_mockspike/script": "the `--script` files in force: rules per file, when loaded, and "
    "why the newest version was refused, if it was",
    "GET /_mockspike/scenarios": 'every scenario\'s state: `{"scenarios": {"refund": "started"}}`',
    "POST /_mockspike/scenarios/reset": "every scenario back to `started` (rules and journal stay)",
    "PUT /_mockspike/scenarios/{name}": 'set a scenario\'s state: `{"state": "looking_up"}`',
    "GET /_mockspike/requests": "the journal (fields named as in Python); `?unmatched=true`: only "
    "requests nothing could answer",
    "GET /_mockspike/requests/{number}": "one journal entry in full (the dashboard's detail view)",
    "POST /_mockspike/reset": "clear rules, scenarios and journal (rule numbers start again at 1)",
    "GET /_mockspike/wallets": "every key's wallet",
    "GET /_mockspike/wallets/{key}": "one key's wallet",
    "POST /_mockspike/wallets/{key}": '`{"top_up": credits}` or `{"balance": credits}`',
    "GET /_mockspike/cache": "the prompt cache's entries (keys hidden)",
    "DELETE /_mockspike/cache": "empty the prompt cache",
    "GET /_mockspike/": "the dashboard",
    "GET /_mockspike/dashboard": "the dashboard",
    "GET /_mockspike/dashboard/app.js": "the dashboard's script",
    "GET /_mockspike/dashboard/style.css": "the dashboard's style sheet",
    "GET /_mockspike/events": "the live journal as server-sent events: `entry` a request, "
    "`clear` on reset",
    "GET /_mockspike/state": "rules, script files, scenarios, wallets, buckets, cache and totals "
    "at once (what the dashboard polls)",
    "GET /_mockspike/verdict": "the resilience verdict, as JSON",
    "GET /_mockspike/batches": "the Message Batches",
    "DELETE /_mockspike/batches": "forget every batch",
    "GET /_mockspike/batches/settings": "`processing_seconds`, `canceling_seconds`, "
    "`expiry_seconds` for new batches",
    "POST /_mockspike/batches/settings": "change them",
    "GET /_mockspike/files": "the stored files",
    "DELETE /_mockspike/files": "forget every file",
}

INTRO = """# HTTP API

What the server answers over HTTP (`mockspike serve`, `fake.serve()`, the `mockspike_server`
fixture). This page is made from the server itself: `python -m tools.http_reference`
rewrites it, and a test fails when it is stale.

## The API

From the OpenAPI 3.1 description the server serves at `GET /openapi.json` (its request
schemas are the ones the validator uses). Every operation answers errors in the API's
envelope ({doc}`errors`); an error status is listed where the profile sends it.
"""

ADMIN_INTRO = """
## The admin API

Under `/_mockspike/`, JSON, for scripting the fake from any language
({doc}`../how-to/admin-api`). Loopback clients only unless an admin token is set; writes
are `content-type: application/json`.
"""


def _statuses(operation: dict[str, Any] | None) -> str:
    if operation is None:
        return "not served (404)"
    return ", ".join(code for code in operation["responses"] if code != "200")


def api_sections() -> str:
    """One section an operation: what it does, and its error statuses on each profile."""
    documents = {profile: openapi_document(profile) for profile in PROFILES}
    seen: list[tuple[str, str]] = []
    for document in documents.values():
        for path, operations in document["paths"].items():
            seen += [(path, method) for method in operations if (path, method) not in seen]
    sections = []
    for path, method in seen:
        found = {p: d["paths"].get(path, {}).get(method) for p, d in documents.items()}
        summary = next(op["summary"] for op in found.values() if op is not None)
        statuses = {profile: _statuses(found[profile]) for profile in PROFILES}
        if len(set(statuses.values())) == 1:
            errors = f"Error statuses: {statuses[PROFILES[0]]}."
        else:
            errors = "\n".join(f"- `{profile}`: {listed}" for profile, listed in statuses.items())
            errors = f"Error statuses, by profile:\n\n{errors}"
        sections.append(f"### `{method.upper()} {path}`\n\n{summary}.\n\n{errors}\n")
    return "\n".join(sections)


def admin_table() -> str:
    rows = ["| route | what it does |", "|---|---|"]
    missing = []
    for route in admin_routes(MockSpike()):
        path = route.path.replace(":int}", "}")
        for method in sorted(route.methods or ()):
            if method == "HEAD":
                continue
            key = f"{method} {path}"
            if key not in ADMIN:
                missing.append(key)
                continue
            rows.append(f"| `{key}` | {ADMIN[key]} |")
    if missing:
        raise SystemExit(f"tools/http_reference.py: describe {', '.join(missing)} in ADMIN")
    return "\n".join(rows) + "\n"


def page() -> str:
    return "\n".join([INTRO, api_sections(), ADMIN_INTRO, admin_table()])


if __name__ == "__main__":
    PAGE.write_text(page(), encoding="utf-8")
