"""The engine: routes once, runs the handlers, and keeps the verdict."""
