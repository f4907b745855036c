"""Canonical brand names: the Python mirror of the `normalize_name` dbt macro
(macros/normalize_name.sql). Both must give the same result for every name: tests check them
against each other on every case of the seed `name_normalization_cases` and on generated names.

Steps, in this order (the macro's):
1. compatibility folding (a subset of NFKC that SQL can do with `replace`/`translate`): fullwidth
   ASCII -> ASCII, ligatures -> letters, superscript/subscript digits -> digits, Unicode spaces
   -> space; format characters (zero-width, joiners, soft hyphen, BOM, bidi marks), combining
   accents (a decomposed `é`) and apostrophes in every form are deleted, so `Nature's`,
   `NATURE\u2019S` and `Natures` are one name;
2. look-alike letters of other scripts (seed `name_confusables`) -> Latin, only when the name has
   an ASCII Latin letter: a name written wholly in Cyrillic or Greek keeps its letters;
3. trim, lower case, accents folded;
4. `&` -> `and`, anything but a-z, 0-9, kana, CJK and hangul -> one space;
5. a leading `the` dropped (as a word: `Theory` keeps it; a name that is only `The` keeps it);
6. trailing legal forms stripped, also stacked and dotted; a name made only of them keeps them;
7. a name with no such letters but other ones (Cyrillic, ...) keeps them, spaces collapsed;
   punctuation only -> None.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

CONFUSABLES_SEED = Path(__file__).resolve().parents[2] / "seeds" / "name_confusables.csv"

# 1. compatibility forms: several characters each (replaced first), then one for one
LIGATURES = (("\ufb01", "fi"), ("\ufb02", "fl"), ("\ufb00", "ff"))  # the common ones (the macro's nesting)
# fullwidth U+FF01-U+FF5E -> U+0021-U+007E, but for the apostrophe and backtick (deleted below) and
# the backslash (a space: it is punctuation either way, and not a safe character in SQL text)
FULLWIDTH_SKIPPED = ("\uff07", "\uff40")
FULLWIDTH = "".join(chr(code) for code in range(0xFF01, 0xFF5F) if chr(code) not in FULLWIDTH_SKIPPED)
FULLWIDTH_AS_ASCII = "".join(
    " " if chr(code - 0xFEE0) == "\\" else chr(code - 0xFEE0)
    for code in range(0xFF01, 0xFF5F)
    if chr(code) not in FULLWIDTH_SKIPPED
)
SPACES = "\u00a0\u1680" + "".join(chr(code) for code in range(0x2000, 0x200B)) + "\u202f\u205f\u3000"
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉ⁱⁿ"
SUPERSCRIPTS_AS_ASCII = "01234567890123456789in"
COMPATIBLE = FULLWIDTH + SPACES + SUPERSCRIPTS
COMPATIBLE_AS_ASCII = FULLWIDTH_AS_ASCII + " " * len(SPACES) + SUPERSCRIPTS_AS_ASCII
# deleted: format characters (zero-width space/non-joiner/joiner, LRM/RLM, bidi embeddings and
# isolates, word joiner and invisible operators, soft hyphen, BOM), combining accents, apostrophes
FORMAT_CHARACTERS = (
    "\u00ad\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
COMBINING_ACCENTS = "".join(chr(code) for code in range(0x0300, 0x0370))
# ' and the right/left/reversed single quotes, modifier apostrophe/prime/turned and reversed
# comma, backtick, acute accent, prime, reversed prime, fullwidth apostrophe and backtick
APOSTROPHES = "'\u2019\u2018\u201b\u02bc\u02b9\u02bb\u02bd`\u00b4\u2032\u2035\uff07\uff40"
DELETED = FORMAT_CHARACTERS + COMBINING_ACCENTS + APOSTROPHES

# 3. accents (after lower case)
ACCENTED = "áàâäãåāăąçćčďéèêëēėęěíìîïīįłñńňóòôöõøōőŕřśšşťúùûüūůűųýÿźżžßæœ"
UNACCENTED = "aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzzsao"

# 6. the lists of macros/normalize_name.sql (legal_suffixes)
SUFFIX_WORDS = (
    *("inc", "incorporated", "llc", "ltd", "limited", "co", "corp", "corporation", "company", "gmbh", "ag", "kg"),
    *("sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "pty", "pte", "oy", "ab", "as", "kk", "de cv"),
)
# also written letter by letter with dots: 'S.A.S.' reads 's a s' once punctuation is a space
DOTTED_SUFFIXES = ("llc", "gmbh", "ag", "kg", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "plc", "ab", "as", "kk")
_SUFFIX = "(" + "|".join([*SUFFIX_WORDS, *(" ".join(word) for word in DOTTED_SUFFIXES), "de c v"]) + ")"
_SUFFIX_RE = re.compile(rf"(^| )(and )?{_SUFFIX}( (and )?{_SUFFIX})*$")

_COMPATIBLE_TABLE = str.maketrans(COMPATIBLE, COMPATIBLE_AS_ASCII, DELETED)
_FOLD = str.maketrans(ACCENTED, UNACCENTED)
_LATIN = re.compile("[A-Za-z]")


@cache
def confusables(path: Path = CONFUSABLES_SEED) -> dict[int, str]:
    """The seed `name_confusables` as a `str.translate` table (read once; the seed is the only copy)."""
    with path.open(newline="", encoding="utf-8") as seed:
        return {ord(row["character"]): row["replacement"] for row in csv.DictReader(seed)}


def fold_compatible(name: str) -> str:
    """Step 1: compatibility forms folded, format characters, combining accents and apostrophes deleted."""
    for ligature, letters in LIGATURES:
        name = name.replace(ligature, letters)
    return name.translate(_COMPATIBLE_TABLE)


def map_confusables(name: str) -> str:
    """Step 2: look-alikes mapped to Latin when the name has an ASCII Latin letter."""
    return name.translate(confusables()) if _LATIN.search(name) else name


def normalize_name(name: str | None) -> str | None:
    """Same result as the normalize_name dbt macro (macros/normalize_name.sql)."""
    if name is None:
        return None
    folded = map_confusables(fold_compatible(name)).strip(" ").lower().translate(_FOLD)
    spaced = re.sub("[^a-z0-9ぁ-ヿ一-鿿가-힣]+", " ", folded.replace("&", " and ")).strip(" ")
    articled = spaced.removeprefix("the ")
    stripped = _SUFFIX_RE.sub("", articled)
    if stripped or articled:
        return stripped or articled
    # no a-z/0-9/CJK at all: other letters (Cyrillic, ...) are kept, runs of spaces collapsed
    return re.sub(" +", " ", folded) if re.sub("[ -~]+", "", folded) else None
