"""The wallets store: each API key's balance in credits (1 credit = 1 US cent); a key
without a wallet is not billed. The gateway tops them up and reads them; spending is the
buckets store's `settle`, in the same step as giving back unused output tokens."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Protocol


class WalletStore(Protocol):
    def get(self, key: str) -> float | None:
        """The key's balance (None: it has no wallet)."""
        ...

    def all(self) -> dict[str, float]: ...
    def credit(self, key: str, credits: float) -> float:
        """Add `credits` (a wallet starts at 0); the new balance."""
        ...

    def set(self, key: str, credits: float) -> None: ...


class MemoryWallets:
    """Balances in this process. `lock` is shared with the buckets spending from them, so a
    take, a settle and a top-up never interleave."""

    def __init__(self, wallets: Mapping[str, float]) -> None:
        self.lock = threading.Lock()
        self.balances = dict(wallets)

    def get(self, key: str) -> float | None:
        return self.balances.get(key)

    def all(self) -> dict[str, float]:
        return dict(self.balances)

    def credit(self, key: str, credits: float) -> float:
        with self.lock:
            self.balances[key] = self.balances.get(key, 0.0) + credits
            return self.balances[key]

    def set(self, key: str, credits: float) -> None:
        with self.lock:
            self.balances[key] = credits
