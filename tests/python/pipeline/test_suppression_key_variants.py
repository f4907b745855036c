"""Whenever one spelling of a key is suppressed, every other spelling is blocked: in the work list,
the queue, every sync_* model and by the send-time guard. Property-based, but one dbt build for
the whole generated batch: Hypothesis draws the cases (addresses, domains, store slugs, seller
ids, brand names, each with the spelling that is suppressed and the spelling the sources use),
they go into a copy of the dbt project's suppression seeds (both shapes) and into RAW rows of a
copy of the demo warehouse (SmartScout brands shaped as the published schema: no storefrontUrl;
Apollo contacts; Smartlead unsubscribes), and one build checks them all. Unsuppressed controls
drawn the same way must reach the queue or the work list, so a pass is never vacuous.

The same build compares the SQL keys (macros/canonical_keys.sql) with the Python ones the guard
uses (reverse_etl/canonical_keys.py) on every generated spelling and on arbitrary text.

Brand-name variants (leading articles, apostrophes, fullwidth and format characters) rely on
`normalize_name` folding them (issue 13, item 1, normalize_name v2): that is what
`test_brand_name_variants_are_blocked` holds it to."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from reverse_etl.canonical_keys import (
    canonical_domain,
    canonical_email,
    domain_problem,
    email_key,
    email_problem,
    fold_mapping,
    unicode_fold,
)
from reverse_etl.suppression_guard import load_suppression_index
from tests.python.cli_runner import PROJECT_DIR, PipelineRun
from tests.python.key_variants import (
    BASE_NAMES,
    DOMAINS,
    LOCAL_PARTS,
    address_variant,
    domain_variant,
    name_variant,
)
from warehouse_layer import connect

pytestmark = pytest.mark.pipeline

DBT = str(Path(sys.executable).with_name("dbt"))
CASES_PER_KIND = 6
# the seeds and models the assertions read, without tests or snapshots: one build for the batch
BUILD_ARGS = [
    "build",
    "--select",
    "+seg_apollo_worklist",
    "+sync_smartlead__leads",
    "+sync_hubspot__contacts",
    "+sync_hubspot__companies",
    "zz_key_agreement",
    "--exclude-resource-type",
    "test",
    "unit_test",
    "snapshot",
]

AGREEMENT_MODEL = """
select
    v,
    {{ unicode_fold('v') }} as folded,
    {{ canonical_email('v') }} as canonical_email,
    {{ email_key('v') }} as email_key,
    {{ email_problem('v') }} as email_problem,
    {{ canonical_domain('v') }} as canonical_domain,
    {{ domain_problem('v') }} as domain_problem
from raw.zz_key_agreement_inputs
"""


@dataclass
class Case:
    """One brand of the batch. `kind` says which key is suppressed (or `control`: none)."""

    kind: str
    name: str  # the base spelling
    smartscout_name: str  # how SmartScout spells the brand
    address: str | None = None  # the contact's canonical address
    contact_spelling: str | None = None  # how Apollo spells it
    suppressed_spelling: str | None = None  # how the suppression list (or Smartlead) spells the key
    later_spelling: str | None = None  # a spelling of the same address the guard meets at send time
    seller_id: str | None = None
    in_client_list: bool = False  # listed in suppression_list_clients rather than suppression_list
    brand_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@st.composite
def _case(draw: st.DrawFn, kind: str) -> Case:
    name = draw(BASE_NAMES)
    case = Case(kind=kind, name=name, smartscout_name=name, in_client_list=draw(st.booleans()))
    if kind in ("email", "event", "domain", "control"):
        local, domain = draw(LOCAL_PARTS), draw(DOMAINS)
        # a suppressed domain also covers its subdomains
        subdomains = draw(st.lists(st.sampled_from(["eu", "mail"]), max_size=1)) if kind == "domain" else []
        host = ".".join([*subdomains, domain])
        case.address = f"{local}@{host}"
        case.contact_spelling = draw(address_variant(case.address))
        case.later_spelling = draw(address_variant(case.address))
        case.extra["domain"] = domain
        if kind in ("email", "event"):
            case.suppressed_spelling = draw(address_variant(case.address))
        elif kind == "domain":
            case.suppressed_spelling = draw(domain_variant(domain))
    elif kind == "slug":
        # Amazon's store slug is the name without spaces, in any case, maybe with separators
        separator = draw(st.sampled_from(["", "", "-", "_"]))
        words = [draw(st.sampled_from([word.lower(), word.upper(), word])) for word in name.split(" ")]
        case.suppressed_spelling = separator.join(words)
    elif kind == "seller":
        case.seller_id = str(draw(st.integers(10_000, 2_000_000_000)))
        case.suppressed_spelling = draw(st.sampled_from(PADDINGS)) + case.seller_id + draw(st.sampled_from(PADDINGS))
    elif kind in ("name", "name_control"):
        case.smartscout_name = draw(name_variant(name))
        case.suppressed_spelling = draw(name_variant(name)) if kind == "name" else None
    return case


PADDINGS = ["", " ", "  "]
KINDS = ["email", "event", "domain", "slug", "seller", "name", "control", "name_control"]


def generate_batch() -> tuple[list[Case], list[str]]:
    """CASES_PER_KIND cases of each kind (distinct names, addresses and domains), and arbitrary
    text for the SQL/Python agreement, drawn by Hypothesis (generation only: one build checks all)."""
    cases: list[Case] = []
    texts: list[str] = []

    @settings(
        max_examples=CASES_PER_KIND * 4,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.tuples(*(_case(kind) for kind in KINDS)), st.text(st.characters(exclude_categories=["Cs"]), max_size=24))
    def collect(drawn: tuple[Case, ...], text: str) -> None:
        texts.append(text)
        for case in drawn:
            if sum(1 for other in cases if other.kind == case.kind) < CASES_PER_KIND and _distinct(case, cases):
                cases.append(case)

    collect()
    return cases, texts


def _squashed(name: str) -> str:
    return name.replace(" ", "").lower()


def _distinct(case: Case, cases: list[Case]) -> bool:
    """No two cases share a name (spaces ignored: slugs), an address or a domain (or a parent of it)."""
    for other in cases:
        if _squashed(other.name) == _squashed(case.name):
            return False
        for mine, theirs in [(case.extra.get("domain"), other.address), (other.extra.get("domain"), case.address)]:
            if mine and theirs and (theirs.endswith("@" + mine) or theirs.endswith("." + mine)):
                return False
    return True


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@dataclass
class Batch:
    cases: list[Case]
    texts: list[str]
    warehouse: Path
    build: subprocess.CompletedProcess[str]

    def of(self, *kinds: str) -> list[Case]:
        return [case for case in self.cases if case.kind in kinds]

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql, params or []).fetchall()


def _copy_project(destination: Path) -> Path:
    for folder in ["models", "seeds", "macros", "snapshots", "tests/sql"]:
        shutil.copytree(PROJECT_DIR / folder, destination / folder)
    shutil.copyfile(PROJECT_DIR / "dbt_project.yml", destination / "dbt_project.yml")
    shutil.copyfile(PROJECT_DIR / "profiles.yml.example", destination / "profiles.yml")
    (destination / "models" / "clean" / "zz_key_agreement.sql").write_text(AGREEMENT_MODEL)
    return destination


def _append_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _write_seeds(project: Path, cases: list[Case]) -> None:
    listed, clients = [], []
    column = {"email": "email", "event": "", "domain": "domain", "slug": "store_slug", "seller": "seller_id"}
    for case in cases:
        if case.suppressed_spelling is None or case.kind == "event":
            continue
        key_type = {"email": "email", "domain": "domain", "slug": "store_slug", "seller": "seller_id"}.get(
            case.kind, "brand_name"
        )
        if case.in_client_list:
            values = dict.fromkeys(["client_name", "store_slug", "domain", "seller_id", "email"], "")
            values[column.get(case.kind) or "client_name"] = case.suppressed_spelling
            clients.append([*values.values(), "do_not_contact", "keytest", "2026-12-01"])
        else:
            listed.append([key_type, case.suppressed_spelling, "do_not_contact", "keytest", "2026-12-01"])
    _append_csv(project / "seeds" / "suppression_list.csv", listed)
    _append_csv(project / "seeds" / "suppression_list_clients.csv", clients)


def _land_raw(warehouse: Path, cases: list[Case], texts: list[str]) -> None:
    """The batch's RAW rows, in a load newer than any the demo build processed."""
    with duckdb.connect(str(warehouse)) as connection:
        newest = connection.execute("select max(cast(_dlt_load_id as double)) from raw.smartscout_brands").fetchone()
        load_id = f"{(newest[0] if newest and newest[0] else time.time()) + 60:.6f}"
        for number, case in enumerate(cases):
            record_hash = _md5(f"keytest|{number}|{case.smartscout_name}")
            connection.execute(
                """
                insert into raw.smartscout_brands (
                    record_hash, marketplace, brand_name, category_name, monthly_revenue, month_growth,
                    month_growth12, trailing12_months, total_products, total_reviews, review_rating,
                    avg_price, avg_sellers, avg_fba_sellers, amazon_isr, brand_score, has_storefront,
                    has_single_seller, dominant_seller_profile_id, dominant_seller_brand_coverage,
                    source_kind, source_file, source_row_number, fetched_at, _dlt_load_id, _dlt_id
                ) values (?, 'US', ?, 'Home & Kitchen', '9000000', '80', '400', '99000000', '40',
                    '900000', '4.8', '30', '1', '1', '0.95', '10', 'true', 'true', ?, '0.9', 'api',
                    'keytest', ?, current_timestamp, ?, ?)
                """,
                [record_hash, case.smartscout_name, case.seller_id, number, load_id, record_hash[:14]],
            )
            case.extra["record_hash"] = record_hash
            if case.address is None:
                continue
            # the brand's id as the warehouse derives it from SmartScout's plain spelling
            brand_id = _md5(f"US|{case.name.lower()}")
            connection.execute(
                """
                insert into raw.apollo_people (
                    brand_id, person_id, first_name, last_name, name, title, seniority, email,
                    email_status, organization_name, organization_domain, lookup_id, source_kind,
                    matched_at, _dlt_load_id, _dlt_id
                ) values (?, ?, 'Kim', 'Test', 'Kim Test', 'CEO', 'c_suite', ?, 'verified', ?, ?,
                    'keytest', 'api', current_timestamp, ?, ?)
                """,
                [
                    brand_id,
                    f"keytest-{number}",
                    case.contact_spelling,
                    case.name,
                    case.extra["domain"],
                    load_id,
                    _md5(brand_id)[:14],
                ],
            )
            if case.kind == "event":
                connection.execute(
                    """
                    insert into raw.smartlead_events (
                        event_key, event_type, event_timestamp, to_email, campaign_id, source_kind,
                        received_at, _dlt_load_id, _dlt_id
                    ) values (?, 'LEAD_UNSUBSCRIBED', '2026-11-20T10:00:00Z', ?, '1001', 'webhook',
                        current_timestamp, ?, ?)
                    """,
                    [_md5(f"keytest-event-{number}"), case.suppressed_spelling, load_id, f"kt{number}"],
                )
        sources, _, removed = fold_mapping()
        inputs = [*texts, sources, removed, *(spelling for case in cases for spelling in _spellings(case))]
        connection.execute("create table raw.zz_key_agreement_inputs (v varchar)")
        connection.executemany("insert into raw.zz_key_agreement_inputs values (?)", [[text] for text in inputs])


def _spellings(case: Case) -> list[str]:
    return [
        text
        for text in [case.address, case.contact_spelling, case.suppressed_spelling, case.later_spelling]
        if text is not None
    ]


@pytest.fixture(scope="module")
def batch(demo_run: PipelineRun, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    cases, texts = generate_batch()
    assert {case.kind for case in cases} == set(KINDS)
    root = tmp_path_factory.mktemp("keys")
    warehouse = root / "outreach.duckdb"
    shutil.copyfile(demo_run.duckdb_path, warehouse)
    project = _copy_project(root / "project")
    _write_seeds(project, cases)
    _land_raw(warehouse, cases, texts)
    env = {**os.environ, "OUTREACH_DUCKDB_PATH": str(warehouse), "DBT_TARGET": "duckdb"}
    build = subprocess.run(
        [DBT, *BUILD_ARGS, "--profiles-dir", str(project)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-4000:]
    result = Batch(cases, texts, warehouse, build)
    ids = dict(result.rows("select record_hash, brand_id from clean.stg_smartscout__brand_observations"))
    for case in cases:
        case.brand_id = ids[case.extra["record_hash"]]
    return result


def _brand_ids_in(batch: Batch, relation: str, column: str = "brand_id") -> set[str]:
    return {row[0] for row in batch.rows(f"select {column} from {relation}")}


def _email_keys_in_syncs(batch: Batch) -> set[str]:
    emails = _brand_ids_in(batch, "segmented.sync_smartlead__leads", "email")
    emails |= _brand_ids_in(batch, "segmented.sync_hubspot__contacts", "email")
    return {email_key(email) or "" for email in emails}


def _brands_reaching_a_destination(batch: Batch) -> dict[str, set[str]]:
    return {
        "seg_apollo_worklist": _brand_ids_in(batch, "segmented.seg_apollo_worklist"),
        "seg_outreach_queue": _brand_ids_in(batch, "segmented.seg_outreach_queue"),
        "sync_smartlead__leads": _brand_ids_in(batch, "segmented.sync_smartlead__leads"),
        "sync_hubspot__contacts": _brand_ids_in(batch, "segmented.sync_hubspot__contacts", "outreach_brand_id"),
        "sync_hubspot__companies": _brand_ids_in(batch, "segmented.sync_hubspot__companies", "outreach_brand_id"),
    }


def _leaks(batch: Batch, cases: list[Case], *, address_only: bool = False) -> list[str]:
    """Where a suppressed case still shows up. `address_only`: the key blocks an address, not its
    brand (a do-not-contact address): the brand may go back on the Apollo work list for another
    contact, but neither it nor the address may be queued or synced with that address."""
    reached = _brands_reaching_a_destination(batch)
    if address_only:
        reached.pop("seg_apollo_worklist")
    synced_keys = _email_keys_in_syncs(batch)
    leaks = [
        f"{case.kind} {case.suppressed_spelling!r} ~ {case.smartscout_name!r} {case.contact_spelling!r}: on {where}"
        for case in cases
        for where, brands in reached.items()
        if case.brand_id in brands
    ]
    leaks += [
        f"{case.kind} {case.suppressed_spelling!r} ~ {case.contact_spelling!r}: its address is in a sync_* model"
        for case in cases
        if case.address and email_key(case.address) in synced_keys
    ]
    return leaks


def test_controls_reach_the_queue_and_the_work_list(batch: Batch) -> None:
    """The generated rows really would be sent when nothing suppresses them."""
    queue = _brand_ids_in(batch, "segmented.sync_smartlead__leads")
    assert [case.contact_spelling for case in batch.of("control") if case.brand_id not in queue] == []
    guard = _guard(batch)
    assert [
        case.later_spelling for case in batch.of("control") if guard.refusal_reason(case.later_spelling, None)
    ] == []


def test_address_variants_are_blocked_in_the_queue_and_every_sync_model(batch: Batch) -> None:
    # an address on the list blocks that address; a Smartlead unsubscribe (the address was
    # emailed) and a suppressed domain block the whole brand
    assert _leaks(batch, batch.of("email"), address_only=True) == []
    assert _leaks(batch, batch.of("event", "domain")) == []


def test_store_slugs_and_seller_ids_block_brands_without_a_storefront_url(batch: Batch) -> None:
    # SmartScout's published schema has no storefrontUrl: the slug matches the name without spaces
    assert _leaks(batch, batch.of("slug", "seller")) == []
    matched = dict(
        batch.rows("select brand_id, matched_by from enriched.int_brand_suppressions where reason = 'do_not_contact'")
    )
    assert {matched.get(case.brand_id) for case in batch.of("slug")} == {"store_slug"}
    assert {matched.get(case.brand_id) for case in batch.of("seller")} == {"seller_id"}


def test_brand_name_variants_are_blocked(batch: Batch) -> None:
    """Relies on normalize_name (v2) folding articles, apostrophes, fullwidth and format characters."""
    clean_brands = _brand_ids_in(batch, "clean.stg_smartscout__brands")
    assert [
        case.smartscout_name for case in batch.of("name", "name_control") if case.brand_id not in clean_brands
    ] == []
    worklist = _brand_ids_in(batch, "segmented.seg_apollo_worklist")
    assert [case.smartscout_name for case in batch.of("name_control") if case.brand_id not in worklist] == []
    assert _leaks(batch, batch.of("name")) == []


def _guard(batch: Batch) -> Any:
    with connect(batch.warehouse, read_only=True) as warehouse:
        return load_suppression_index(warehouse, crm_handoff=False)


def test_the_send_time_guard_refuses_every_spelling_of_a_suppressed_address(batch: Batch) -> None:
    guard = _guard(batch)
    let_through = [
        (case.kind, spelling)
        for case in batch.of("email", "event", "domain")
        for spelling in [case.address, case.contact_spelling, case.later_spelling]
        if spelling is not None and guard.refusal_reason(spelling, None) is None
    ]
    assert let_through == []


def test_sql_and_python_keys_agree(batch: Batch) -> None:
    rows = batch.rows(
        "select v, folded, canonical_email, email_key, email_problem, canonical_domain, domain_problem"
        " from clean.zz_key_agreement"
    )
    assert len(rows) >= len(batch.texts)
    differences = []
    for text, folded, address, key, problem, domain, bad_domain in rows:
        python = (unicode_fold(text), email_problem(text), domain_problem(text))
        if (folded, problem, bad_domain) != python:
            differences.append((text, (folded, problem, bad_domain), python))
        # keys are compared where they are usable (lower() of other letters differs between engines)
        if problem is None and (address, key) != (canonical_email(text), email_key(text)):
            differences.append((text, (address, key), (canonical_email(text), email_key(text))))
        if bad_domain is None and domain != canonical_domain(text):
            differences.append((text, domain, canonical_domain(text)))
    assert differences == []
    # the set is not only invalid text: usable addresses and their variants are in it
    assert sum(1 for row in rows if row[4] is None) >= 2 * CASES_PER_KIND
