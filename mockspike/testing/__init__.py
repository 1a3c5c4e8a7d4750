"""Test tooling: the pytest plugin and the Hypothesis strategies."""
