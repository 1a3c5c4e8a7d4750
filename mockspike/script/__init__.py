"""Scripted replies: rules, matchers, answer verbs, script files and templates."""
