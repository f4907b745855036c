"""The send-time guard compares canonical keys (reverse_etl/canonical_keys.py, the mirror of
macros/canonical_keys.sql): an address or domain suppressed in one spelling blocks every other
spelling of it. Pure Python and fast; the SQL side and the agreement of both are checked through
a real build in tests/python/pipeline/test_suppression_key_variants.py."""

from __future__ import annotations

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from reverse_etl.canonical_keys import canonical_domain, email_key, email_problem, unicode_fold
from reverse_etl.suppression_guard import SuppressionIndex, candidate_domains, normalized_email
from tests.python.cli_runner import PROJECT_DIR
from tests.python.key_variants import (
    ADDRESSES,
    DOMAINS,
    FORMAT_CHARACTERS,
    LABELS,
    LOCAL_PARTS,
    address_variant,
    domain_variant,
)

FAST = settings(max_examples=60, deadline=None)


@FAST
@given(st.data(), ADDRESSES)
def test_an_address_suppressed_in_one_spelling_blocks_all_others_at_send_time(
    data: st.DataObject, address: str
) -> None:
    suppressed, candidate = data.draw(address_variant(address)), data.draw(address_variant(address))
    # the key the warehouse stores for the suppressed spelling, as the guard computes it
    index = SuppressionIndex(emails={normalized_email(suppressed): "do_not_contact"}, domains={}, brands={})
    assert index.refusal_reason(candidate, None) == "email suppressed: do_not_contact"
    assert email_problem(candidate) is None
    assert email_key(candidate) == email_key(address) == address  # the base address has no tag


@FAST
@given(st.data(), DOMAINS, LOCAL_PARTS, st.lists(LABELS, max_size=2))
def test_a_domain_suppressed_in_one_spelling_blocks_its_addresses_and_subdomains(
    data: st.DataObject, domain: str, local: str, subdomains: list[str]
) -> None:
    suppressed = canonical_domain(data.draw(domain_variant(domain)))
    assert suppressed == domain
    host = ".".join([*subdomains, domain])
    candidate = data.draw(address_variant(f"{local}@{host}"))
    index = SuppressionIndex(emails={}, domains={domain: "fired_client"}, brands={})
    assert index.refusal_reason(candidate, None) == "domain suppressed: fired_client"
    assert candidate_domains(candidate)[0] == host


def test_the_reported_send_time_leaks_are_blocked() -> None:
    """The reproduced leaks: a +tag, a trailing dot, a zero-width space inside the address."""
    index = SuppressionIndex(emails={normalized_email("John@Acme-Mail.com"): "do_not_contact"}, domains={}, brands={})
    for leaked in [
        "john+x@acme-mail.com",
        "john@acme-mail.com.",
        "jo\u200bhn@acme-mail.com",
        "\uff4a\uff4f\uff48\uff4e@acme-mail.com",
    ]:
        assert index.refusal_reason(leaked, None) == "email suppressed: do_not_contact", leaked
    assert index.refusal_reason("johnny@acme-mail.com", None) is None


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=30))
def test_bad_addresses_are_refused_with_a_reason_never_a_crash(text: str) -> None:
    index = SuppressionIndex(emails={}, domains={}, brands={})
    problem = email_problem(text)
    reason = index.refusal_reason(text, None) if text else None
    if problem is not None and text:
        assert reason == f"email refused: {problem}"
    if problem is None:
        assert reason is None and "@" in (email_key(text) or "")


def test_invalid_spellings_are_quarantined_not_matched_loosely() -> None:
    for bad, problem in [
        ("", "no email revealed"),
        (" \u200b ", "no email revealed"),
        ("john@@acme.com", "invalid email syntax"),
        ("+tag@acme.com", "invalid email syntax"),  # its key would have no local part
        ("\ufb01ona@acme.com", "invalid email syntax"),  # a ligature NFKC expands to two letters
        ("jos\u00e9@acme.com", "invalid email syntax"),
        ("john@acme", "invalid email syntax"),
    ]:
        assert email_problem(bad) == problem, bad


def test_format_characters_and_fullwidth_fold_away() -> None:
    assert unicode_fold("".join(FORMAT_CHARACTERS)) == ""
    assert unicode_fold("\uff21\uff43\uff4d\uff45\u00a0\uff29\uff4e\uff43") == "Acme Inc"
    assert canonical_domain(" WWW.Acme.COM. ") == "acme.com"


def test_the_sql_fold_table_is_generated_from_the_python_one() -> None:
    """macros/unicode_fold.sql is written by scripts/generate_unicode_fold.py from the table above:
    a change to one without regenerating the other fails here."""
    sys.path.insert(0, str(PROJECT_DIR / "scripts"))
    try:
        from generate_unicode_fold import MACRO_FILE, render
    finally:
        sys.path.remove(str(PROJECT_DIR / "scripts"))
    assert MACRO_FILE.read_text(encoding="ascii") == render()
