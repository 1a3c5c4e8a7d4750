"""The gateway: keys and scopes, rate limits, wallets, prompt cache: arithmetic over the stores."""
