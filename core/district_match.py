"""District names as people type them: ``高新区`` → 成都高新区, ``锦江`` → 锦江区, ``成都市武侯区``
→ 武侯区, and a clear list of candidates when a name could mean several districts.

Pure: it matches against the names it is given (the districts stored), so the CLI, the importer
and anything later share one rule.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# What people put in front of a district's name that the stored names do not carry (longest
# first, so 四川省成都市 is taken off whole).
_PREFIXES = ("四川省成都市", "四川省", "成都市")
# Candidates named in one line; more than this and the line asks for a longer name.
LISTED = 8


def _plain(text: str) -> str:
    """Full-width letters and digits folded (NFKC), blanks removed: typed and stored names
    compare alike."""
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class DistrictMatch:
    """The outcome of matching a typed name: one district, several candidates, or none."""

    query: str
    name: str | None = None
    candidates: tuple[str, ...] = field(default_factory=tuple)
    known: int = 0  # how many names it was matched against (0: nothing seeded yet)

    @property
    def ambiguous(self) -> bool:
        """True when the name fits more than one district."""
        return self.name is None and len(self.candidates) > 1

    def problem(self) -> str | None:
        """The line to show when no single district was found (Chinese, as the CLI speaks);
        None when one was."""
        if self.name is not None:
            return None
        shown = self.query.strip()
        if not self.known:
            return f"找不到区（市）县“{shown}”：还没有任何区（市）县，先运行 kexie districts seed。"
        if self.ambiguous:
            listed = "、".join(self.candidates[:LISTED])
            more = f" 等 {len(self.candidates)} 个" if len(self.candidates) > LISTED else ""
            return (
                f"“{shown}”可能指：{listed}{more}。请写得更完整一些（例如 {self.candidates[0]}）。"
            )
        return f"找不到区（市）县“{shown}”。用 kexie districts list 查看全部名称（例如 锦江区）。"


def match_district(query: str, names: Iterable[str]) -> DistrictMatch:
    """Match ``query`` against the district ``names``.

    The name is tried as typed, without a leading 成都市 / 四川省, and without its last 区/市/县
    (``郫县`` → 郫都区). In order, the first rule that finds anything decides: the exact name;
    names starting with it (``锦江`` → 锦江区); names containing it (``高新区`` → 成都高新区,
    ``天府新区`` → 四川天府新区成都直管区). One name found is the match; several are
    candidates, never a guess.
    """
    stored = list(dict.fromkeys(names))
    typed = _plain(query)
    if not typed:
        return DistrictMatch(query, known=len(stored))
    keys = {name: _plain(name) for name in stored}
    forms = [typed]
    for prefix in _PREFIXES:
        if typed.startswith(prefix) and len(typed) > len(prefix):
            forms.append(typed[len(prefix) :])
            break
    # Old names and a wrong ending (郫县 → 郫都区, 双流县 → 双流区): the stem, but not a
    # one-character stem of a 区 (新区's 新 would point at 新都区 and 新津区, not at the 新区s).
    stem, ending = forms[-1][:-1], forms[-1][-1]
    if stem and ending in "区市县" and (len(stem) >= 2 or ending != "区"):
        forms.append(stem)
    rules = (
        lambda key, form: key == form,
        lambda key, form: key.startswith(form),
        lambda key, form: form in key,
    )
    for rule in rules:
        found = [name for name in stored if any(rule(keys[name], form) for form in forms)]
        if len(found) == 1:
            return DistrictMatch(query, name=found[0], known=len(stored))
        if found:
            return DistrictMatch(query, candidates=tuple(found), known=len(stored))
    return DistrictMatch(query, known=len(stored))
