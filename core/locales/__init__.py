"""One text catalog per language: ``zh`` (first) and ``en``."""
