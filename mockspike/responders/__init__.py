"""Responders decide the reply. Today: the synthetic default."""

from .synthetic import synthetic_reply

__all__ = ["synthetic_reply"]
