"""Adapters from HTTP to the engine: ASGI app, httpx/httpx2 transports, serving."""
