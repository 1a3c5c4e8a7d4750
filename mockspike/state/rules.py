"""The rules store: scripted rules as data (their script-file form, `script/files.py`),
how often each was used, and the scenarios' states.

Rules are known here only by number (1, 2, 3… in the script's order) and by the plain
values a use depends on; turning a spec into a `Rule` and counting its uses on it is the
script's business (`script/stored.py`). In memory the script holds its own rules and only
the scenarios live here; with a shared store (Redis) the specs, the use counts and the
scenarios are shared, and every claim is one atomic step, so two processes never both
take the last use of a rule.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

STARTED = "started"
"""Every scenario's state until a rule moves it (or it is set)."""
USED_UP = -1
"""`claim`'s position when the rule's uses ran out."""
ELSEWHERE = -2
"""`claim`'s position when the rule's scenario is not in the state it needs."""


@dataclass
class Loaded:
    """The shared rules as they are now: their version, each rule's uses by number, and
    their specs when the version is not the one the caller knew (else None)."""

    version: str | None
    calls: dict[int, int]
    specs: list[dict[str, Any]] | None


class RuleStore(Protocol):
    shared: bool
    """True when other processes see the same rules (rules must then be data)."""

    def claim(
        self,
        number: int,
        times: int | None,
        used: int,
        scenario: str | None,
        state: str | None,
        next_state: str | None,
    ) -> tuple[int, str | None]:
        """Take one use of rule `number`: its position in the rule's sequence (0 first),
        or `USED_UP`, or `ELSEWHERE`; and for a rule in a scenario the state it saw. A
        scenario rule's `next_state` is set in the same step."""
        ...

    def scenarios(self) -> dict[str, str]:
        """The state of every scenario that has moved from `STARTED`."""
        ...

    def set_scenario(self, name: str, state: str) -> None: ...
    def reset_scenarios(self) -> None: ...

    def load(self, known: str | None) -> Loaded:
        """The shared rules' uses, and their specs if their version is not `known`
        (shared stores only)."""
        ...

    def store_rules(self, specs: list[dict[str, Any]]) -> None:
        """Share rules in their script-file form, after those shared before (no-op in
        memory)."""
        ...

    def store_script(self, specs: list[dict[str, Any]], digest: str) -> bool:
        """Share a script source's rules in place of the source's rules before them, ahead
        of the rules added otherwise, in one step; False (nothing done) when the rules in
        force already came from a source of this `digest` (processes loading or reloading
        the same files at once store them once). Uses of the other rules are kept."""
        ...

    def clear(self) -> None:
        """Forget the rules, their uses and the scenarios' states."""
        ...


class MemoryRules:
    """The scenarios' states in this process (the script counts its rules' uses itself)."""

    shared = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scenarios: dict[str, str] = {}

    def claim(
        self,
        number: int,
        times: int | None,
        used: int,
        scenario: str | None,
        state: str | None,
        next_state: str | None,
    ) -> tuple[int, str | None]:
        if times is not None and used >= times:
            return USED_UP, None
        if scenario is None:
            return used, None
        with self._lock:
            seen = self._scenarios.get(scenario, STARTED)
            if state is not None and seen != state:
                return ELSEWHERE, None
            if next_state is not None:
                self._scenarios[scenario] = next_state
        return used, seen

    def scenarios(self) -> dict[str, str]:
        with self._lock:
            return dict(self._scenarios)

    def set_scenario(self, name: str, state: str) -> None:
        with self._lock:
            self._scenarios[name] = state

    def reset_scenarios(self) -> None:
        with self._lock:
            self._scenarios.clear()

    def load(self, known: str | None) -> Loaded:
        return Loaded(None, {}, None)

    def store_rules(self, specs: list[dict[str, Any]]) -> None:
        pass

    def store_script(self, specs: list[dict[str, Any]], digest: str) -> bool:
        return True

    def clear(self) -> None:
        self.reset_scenarios()
