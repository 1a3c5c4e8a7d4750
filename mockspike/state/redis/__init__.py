"""The stores in Redis, so several `mockspike serve` processes act as one fake: one module
a store (the twin of `state/<store>.py`), and `client.py` for what they share (the
connection, its timeouts, and exactly-once decisions). `state/stores.py`'s
`redis_stores(url)` builds the set."""
