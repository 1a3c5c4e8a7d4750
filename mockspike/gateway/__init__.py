"""The gateway's state: keys and scopes, rate limits, wallets, prompt cache, clock."""
