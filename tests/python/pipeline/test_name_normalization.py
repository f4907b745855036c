"""Brand-name normalization, property-based: every spelling variant of a name (case, accents, a
leading article, apostrophes of every form, legal forms, fullwidth letters, format characters
inside words, Unicode spaces, ligatures, Cyrillic/Greek look-alikes) normalizes like the name
itself in Python (loaders/common/names.py), and the dbt macro (macros/normalize_name.sql, its
compiled SQL run on a real DuckDB) agrees with Python on generated names and on every case of
the seed name_normalization_cases. One `dbt compile` for the module; each example is one query."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loaders.common.names import (
    ACCENTED,
    APOSTROPHES,
    CONFUSABLES_SEED,
    FORMAT_CHARACTERS,
    SPACES,
    SUFFIX_WORDS,
    UNACCENTED,
    confusables,
    fold_compatible,
    normalize_name,
)

PROJECT_DIR = Path(__file__).resolve().parents[3]
DBT = str(Path(sys.executable).with_name("dbt"))
CASES_SEED = PROJECT_DIR / "seeds" / "name_normalization_cases.csv"

# words that normalization treats specially are not base words: the variants add them
RESERVED = {*SUFFIX_WORDS, "the", "and", "de", "cv"}
LEGAL_FORMS = (", Inc.", " LLC", " Co., Ltd.", " GmbH & Co. KG", " S.A.S.", " Ltd", " corp", " S.A. de C.V.")
ARTICLES = ("The ", "THE ", "the  ", "Thé ")
# accented letter -> its plain letter, for letters that fold one to one
ACCENTS_OF: dict[str, list[str]] = {}
for accented, plain in zip(ACCENTED, UNACCENTED, strict=True):
    ACCENTS_OF.setdefault(plain, []).append(accented)
LOOKALIKES_OF: dict[str, list[str]] = {}
for code, latin in confusables().items():
    LOOKALIKES_OF.setdefault(latin, []).append(chr(code))
LIGATURES = {"fi": "\ufb01", "fl": "\ufb02", "ff": "\ufb00"}

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=8).filter(lambda w: w not in RESERVED)
base_names = st.lists(words, min_size=1, max_size=3).map(" ".join)


def _positions(draw: st.DrawFn, text: str, fraction: float = 0.3) -> list[int]:
    return [i for i in range(len(text)) if draw(st.floats(0, 1)) < fraction]


@st.composite
def variants(draw: st.DrawFn) -> tuple[str, str]:
    """(base name, one of its spellings)."""
    base = draw(base_names)
    text = base
    if draw(st.booleans()):
        text = draw(st.sampled_from(ARTICLES)) + text
    if draw(st.booleans()):
        text += draw(st.sampled_from(LEGAL_FORMS))
    chars = list(text)
    for i in _positions(draw, text):  # case
        chars[i] = chars[i].upper()
    for i in _positions(draw, text, 0.15):  # accents
        if chars[i] in ACCENTS_OF:
            chars[i] = draw(st.sampled_from(ACCENTS_OF[chars[i]]))
    for i in _positions(draw, text, 0.15):  # look-alikes of other scripts
        if chars[i].lower() in LOOKALIKES_OF and chars[i].isascii():
            chars[i] = draw(st.sampled_from(LOOKALIKES_OF[chars[i].lower()]))
    for i in _positions(draw, text, 0.15):  # fullwidth forms
        if "!" <= chars[i] <= "~" and chars[i] not in "'`\\":
            chars[i] = chr(ord(chars[i]) + 0xFEE0)
    for i in _positions(draw, text, 0.2):  # spaces of other kinds
        if chars[i] == " ":
            chars[i] = draw(st.sampled_from([*SPACES, "  "]))
    text = "".join(chars)
    for pair, ligature in LIGATURES.items():
        if draw(st.booleans()):
            text = text.replace(pair, ligature)
    # apostrophes, format characters and combining accents inside words (after a letter)
    inside = [i + 1 for i in range(len(text) - 1) if text[i].isalpha() and text[i + 1].isalpha()]
    for i in sorted(draw(st.lists(st.sampled_from(inside), max_size=3)) if inside else [], reverse=True):
        extra = draw(st.sampled_from([*APOSTROPHES, *FORMAT_CHARACTERS, "\u0301", "\u0308"]))
        text = text[:i] + extra + text[i:]
    if draw(st.booleans()):
        text = draw(st.sampled_from(["\ufeff", "\u200e", " ", "\u00a0"])) + text
    # look-alikes are mapped only in names that keep a Latin letter (a wholly Cyrillic name is real)
    assume(re.search("[A-Za-z]", fold_compatible(text)))
    return base, text


# any mix of what the normalization handles, to compare Python and SQL beyond the variants
interesting = st.text(
    alphabet=st.sampled_from(
        [
            *"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,&-/!()'",
            *ACCENTED,
            *ACCENTED.upper().replace("SS", ""),
            *APOSTROPHES,
            *FORMAT_CHARACTERS,
            *SPACES,
            *(chr(code) for code in range(0xFF01, 0xFF5F, 7)),
            *(chr(code) for code in confusables()),
            *"абвгдежзийклмнопрстуфхцчшщыэюя",
            *"山田東京ストア서울",
            *"\ufb01\ufb02\ufb00\u00b2\u2075\u2083\u0301\u0308",
        ]
    ),
    max_size=24,
)


@given(variants())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_every_variant_of_a_name_normalizes_like_the_name(pair: tuple[str, str]) -> None:
    base, variant = pair
    assert normalize_name(base) == base
    assert normalize_name(variant) == base, f"{variant!r} -> {normalize_name(variant)!r}"


@given(words, st.sampled_from(["The", "THE", "the"]))
def test_the_is_dropped_only_as_a_separate_word(word: str, article: str) -> None:
    assert normalize_name(f"{article} {word}") == word
    # 'Theory', 'Thermos': 'the' inside a word is part of the name; a brand named 'The' keeps it
    assert normalize_name(article + word) == "the" + word
    assert normalize_name(article) == "the"


def test_a_name_written_wholly_in_another_script_keeps_its_letters() -> None:
    # Russian for sugar is made only of look-alike letters: alone it is not read as Latin 'caxap'
    assert normalize_name("\u0421\u0430\u0445\u0430\u0440") == "\u0441\u0430\u0445\u0430\u0440"
    assert normalize_name("\u0421\u0430\u0445\u0430\u0440 Inc") == "caxap"


def test_python_reads_the_confusables_seed() -> None:
    with CONFUSABLES_SEED.open(newline="", encoding="utf-8") as seed:
        listed = {row["character"]: row["replacement"] for row in csv.DictReader(seed)}
    assert {chr(code): latin for code, latin in confusables().items()} == listed


@pytest.fixture(scope="module")
def sql_normalize(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB with the confusables seed loaded and the macro's compiled SQL as a macro table
    function: `select * from normalized()` over the table generated_names(raw_name)."""
    work = tmp_path_factory.mktemp("names")
    database = work / "names.duckdb"
    env = {**os.environ, "DBT_TARGET": "duckdb", "OUTREACH_DUCKDB_PATH": str(database)}
    if not (PROJECT_DIR / "profiles.yml").exists():
        env["DBT_PROFILES_DIR"] = str(work)
        (work / "profiles.yml").write_text((PROJECT_DIR / "profiles.yml.example").read_text())
    inline = "select raw_name, {{ normalize_name('raw_name') }} as normalized_name from generated_names"
    completed = subprocess.run(
        [
            *(DBT, "compile", "--inline", inline, "--output", "json", "--quiet", "--no-partial-parse"),
            *("--target-path", str(work / "target"), "--log-path", str(work)),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    compiled = json.loads(completed.stdout)["compiled"]
    connection = duckdb.connect(str(database))
    connection.execute("create schema if not exists config")
    connection.execute(
        "create or replace table config.name_confusables as "
        "select * from read_csv(?, header = true, all_varchar = true)",
        [str(CONFUSABLES_SEED)],
    )
    connection.execute("create or replace table generated_names (position integer, raw_name varchar)")
    connection.execute(f"create or replace macro normalized() as table {compiled}")
    try:
        yield connection
    finally:
        connection.close()


def sql_results(connection: duckdb.DuckDBPyConnection, names: list[str]) -> list[str | None]:
    connection.execute("delete from generated_names")
    connection.executemany("insert into generated_names values (?, ?)", list(enumerate(names)))
    rows = connection.execute(
        "select normalized.normalized_name from generated_names "
        "left join normalized() as normalized on generated_names.raw_name is not distinct from normalized.raw_name "
        "order by generated_names.position"
    ).fetchall()
    return [row[0] for row in rows]


@given(st.lists(st.one_of(variants().map(lambda pair: pair[1]), interesting), min_size=1, max_size=40, unique=True))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_sql_and_python_agree_on_generated_names(sql_normalize: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    built = sql_results(sql_normalize, names)
    assert [(name, sql) for name, sql in zip(names, built, strict=True) if normalize_name(name) != sql] == []


def test_sql_and_python_agree_on_every_seeded_case(sql_normalize: duckdb.DuckDBPyConnection) -> None:
    with CASES_SEED.open(newline="", encoding="utf-8") as seed:
        cases = [(row["raw_name"], row["expected_normalized_name"] or None) for row in csv.DictReader(seed)]
    assert len(cases) > 70
    names = list(dict.fromkeys(raw for raw, _ in cases))
    built = dict(zip(names, sql_results(sql_normalize, names), strict=True))
    assert [(raw, expected, built[raw]) for raw, expected in cases if built[raw] != expected] == []
    assert [(raw, expected) for raw, expected in cases if normalize_name(raw) != expected] == []
