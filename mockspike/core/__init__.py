"""The framework-free core: wire values, the engine, endpoints, outcomes, the journal."""
