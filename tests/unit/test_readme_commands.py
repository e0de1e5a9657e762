"""Every ``kexie`` command the README shows is one the CLI accepts, and its import example names
the file ``kexie template`` writes (a newcomer follows the README to the letter)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.cli_registry import template_name

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[list[str]]:
    """The README's ``.venv/bin/kexie …`` lines as argument lists (comments cut off)."""
    commands = []
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith(".venv/bin/kexie "):
            # A shell substitution ($(date +%F)) stands for one word.
            words = shlex.split(re.sub(r"\$\([^)]*\)", "X", line), comments=True)
            commands.append(words[1:])
    return commands


def test_the_readme_shows_the_newcomer_commands() -> None:
    shown = {" ".join(words[:2]) for words in readme_commands()}
    assert {"districts seed", "districts list", "org add", "org list", "template 1-1"} <= shown


@pytest.mark.parametrize("words", readme_commands(), ids=" ".join)
def test_every_readme_command_parses(words: list[str]) -> None:
    args = build_parser().parse_args(words)
    assert callable(args.func)


def test_the_import_example_names_the_template() -> None:
    imports = [words for words in readme_commands() if words[0] == "import"]
    assert imports and all(words[2] == template_name(words[1]) for words in imports)
