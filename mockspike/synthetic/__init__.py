"""The synthetic default: text, structured outputs, server tools, citations, thinking."""
