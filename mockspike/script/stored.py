"""The script over the rules store: a rule's use claimed from the store by the rule's plain
values (so a shared store counts uses for every process), and the script rebuilt from the
rule specs another process stored. The store keeps data; the `Rule`s are made here."""

from __future__ import annotations

from typing import Any

from mockspike.script import files as script_files
from mockspike.script.rules import Claimed, Rule, Script
from mockspike.state.rules import USED_UP, RuleStore


class StoredRules:
    """One script's view of a rules store."""

    def __init__(self, store: RuleStore) -> None:
        self.store = store
        self.version: str | None = None
        """The version of the shared rules the script was last rebuilt from."""

    def claim(self, rule: Rule) -> Claimed | None:
        """Take one use of `rule` (called with the script's lock held): its position in
        the rule's sequence and the scenario state it saw; None when its uses ran out or
        its scenario is elsewhere."""
        position, seen = self.store.claim(
            rule.number, rule.times, rule.call_count, rule.scenario, rule.state, rule.next_state
        )
        if position < 0:
            if position == USED_UP and rule.times is not None:
                rule.call_count = rule.times  # used up in another process
            return None
        rule.call_count = position + 1
        return position, seen

    def sync(self, script: Script) -> None:
        """Bring `script` up to date with the rules other processes stored (one round trip
        to a shared store; nothing in memory)."""
        if not self.store.shared:
            return
        loaded = self.store.load(self.version)
        if loaded.specs is not None:
            specs = loaded.specs
            rules = script_files.build_rules({"rules": specs}, _shared_rule) if specs else []
            for number, rule in enumerate(rules, 1):
                rule.number = number
            script.replace(rules)
            self.version = loaded.version
        for rule in script.rules:
            rule.call_count = loaded.calls.get(rule.number, 0)


def _shared_rule(**given: Any) -> Rule:
    return Rule.of(given)
