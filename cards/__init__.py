"""Turning plain results into Teams messages: Adaptive Card 1.5 plus a text fallback."""
