"""Rendering of results: JSON, rich tables, HTML, annotate. Never imports the emulator."""
