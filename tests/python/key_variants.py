"""Hypothesis strategies for suppression keys and the spellings of one key that must all be
blocked when any of them is suppressed: addresses (case, +tags, trailing dots, format
characters, fullwidth letters, padding), domains (the same, `www.`, subdomains) and brand names
(case, accents, leading articles, apostrophes, legal forms, fullwidth, format characters,
punctuation and spacing)."""

from __future__ import annotations

from hypothesis import strategies as st

# invisible characters a copy-paste or a mail client leaves in text (Unicode category Cf)
FORMAT_CHARACTERS = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u2060",  # word joiner
    "\u00ad",  # soft hyphen
    "\ufeff",  # BOM / zero-width no-break space
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202a",  # left-to-right embedding
    "\u202c",  # pop directional formatting
    "\u2066",  # left-to-right isolate
    "\u2069",  # pop directional isolate
]
PADDING = [" ", "\t", "\u00a0", "\u3000", "\u2009"]
ACCENTS = {"a": "áàâäãå", "e": "éèêë", "i": "íìîï", "o": "óòôöõ", "u": "úùûü", "n": "ñ", "c": "ç", "y": "ý"}
ARTICLES = ["The ", "THE ", "the "]
APOSTROPHES = ["'", "\u2019", "\u2018", "\u02bc", "\uff07"]
LEGAL_FORMS = [" Inc", " Inc.", ", Inc.", " LLC", " L.L.C.", " Ltd", " Co.", " Corp.", " GmbH", " & Co. KG", " S.A."]
# words that are neither articles nor legal forms, so a base name stays a plain name
_SYLLABLES = ["nor", "vik", "tal", "ber", "mon", "ka", "lu", "ren", "dor", "sel", "quin", "pax", "zo", "mir"]
_ENDINGS = ["", "", "s", "es", "ris"]


def fullwidth(char: str) -> str:
    """The fullwidth form of a printable ASCII character (U+FF01-FF5E)."""
    return chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char


@st.composite
def _scrambled(draw: st.DrawFn, text: str, *, fullwidth_ok: bool = True, accents: bool = False) -> str:
    """`text` with random case, fullwidth characters, accents and format characters inside."""
    chars: list[str] = []
    for char in text:
        kind = draw(st.sampled_from(["keep", "keep", "case", "fullwidth", "accent"]))
        if kind == "case":
            char = char.swapcase()
        elif kind == "fullwidth" and fullwidth_ok:
            char = fullwidth(char)
        elif kind == "accent" and accents and char.lower() in ACCENTS:
            char = draw(st.sampled_from(ACCENTS[char.lower()]))
        chars.append(char)
        if draw(st.integers(0, 9)) == 0:
            chars.append(draw(st.sampled_from(FORMAT_CHARACTERS)))
    return "".join(chars)


def _padding() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(PADDING), max_size=2).map("".join)


# ----------------------------------------------------------------------------------------- emails

LOCAL_PARTS = st.from_regex(r"[a-z][a-z0-9]{0,6}([._-][a-z0-9]{1,5})?", fullmatch=True)
LABELS = st.from_regex(r"[a-z][a-z0-9]{1,7}(-[a-z0-9]{1,4})?", fullmatch=True)
DOMAINS = st.builds(
    lambda labels, tld: ".".join([*labels, tld]),
    st.lists(LABELS, min_size=1, max_size=2),
    st.sampled_from(["com", "co", "io", "net", "de", "shop"]),
)
ADDRESSES = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL_PARTS, DOMAINS)


@st.composite
def address_variant(draw: st.DrawFn, address: str) -> str:
    """Another spelling of `address` that must share its suppression key."""
    local, _, domain = address.partition("@")
    if draw(st.booleans()):
        local += "+" + draw(st.from_regex(r"[a-z0-9._-]{0,8}", fullmatch=True))
    spelled = draw(_scrambled(f"{local}@{domain}"))
    dots = "." * draw(st.integers(0, 2))
    return draw(_padding()) + spelled + dots + draw(_padding())


@st.composite
def domain_variant(draw: st.DrawFn, domain: str) -> str:
    """Another spelling of a domain key (as a suppression list or a CRM writes it)."""
    prefix = draw(st.sampled_from(["", "", "www.", "WWW.", "@"]))
    dots = "." * draw(st.integers(0, 1))
    return draw(_padding()) + draw(_scrambled(prefix + domain)) + dots + draw(_padding())


# ------------------------------------------------------------------------------------ brand names

BASE_NAMES = st.lists(
    st.builds(
        lambda parts, ending: ("".join(parts) + ending).capitalize(),
        st.lists(st.sampled_from(_SYLLABLES), min_size=2, max_size=3),
        st.sampled_from(_ENDINGS),
    ),
    min_size=1,
    max_size=3,
    unique=True,
).map(" ".join)


@st.composite
def name_variant(draw: st.DrawFn, name: str) -> str:
    """Another spelling of a brand name: case, accents, a leading article, an apostrophe (in any
    form) before a final `s` of a word, a legal form, fullwidth letters, format characters,
    punctuation and spacing."""
    words = name.split(" ")
    for position, word in enumerate(words):
        if word.endswith("s") and draw(st.booleans()):
            # "Natures" / "Nature's" / "Nature\u2019s": an apostrophe is noise to the name
            words[position] = word[:-1] + draw(st.sampled_from(APOSTROPHES)) + "s"
    separator = draw(st.sampled_from([" ", "  ", " - ", ", ", " "]))
    text = separator.join(words)
    text = draw(_scrambled(text, accents=True))
    if draw(st.booleans()):
        text = draw(st.sampled_from(ARTICLES)) + text
    if draw(st.booleans()):
        text += draw(st.sampled_from(LEGAL_FORMS))
    return draw(_padding()) + text + draw(_padding())
