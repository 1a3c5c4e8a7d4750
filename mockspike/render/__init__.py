"""Rendering a decided reply: the Message JSON, SSE frames, the OpenAI chat dialect."""
