"""Rendering a decided reply: the Message JSON, SSE frames, pacing."""
