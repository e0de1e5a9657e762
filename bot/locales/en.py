"""English texts (second language). Same keys and placeholders as ``zh.py``."""

TEXTS: dict[str, str] = {}
