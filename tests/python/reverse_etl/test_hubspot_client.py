"""HubSpotClient against the fake HubSpot over real HTTP (nothing really sleeps)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from loaders.common.http import ApiAuthError, ApiRequestError, MissingSecretError, RetryPolicy
from reverse_etl.destinations import HubSpotCompanies
from reverse_etl.hubspot_client import (
    ASSOCIATION_PATH,
    COMPANIES_UPDATE_PATH,
    COMPANIES_UPSERT_PATH,
    CONTACTS_UPSERT_PATH,
    AssociationNotConfirmed,
    HubSpotClient,
    HubSpotConfig,
)
from reverse_etl.payloads import hubspot_company_update_input, hubspot_contact_input
from reverse_etl.sync import HUBSPOT_COMPANIES, SyncRecord
from tests.python.fakes.hubspot import FakeClock, FakeHubSpot, serve_hubspot

TOKEN = "pat-na1-secret-token-123"


class RecordingSleep:
    """Records every wait and moves the fake's clock instead of sleeping."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds)

    @property
    def long_waits(self) -> list[float]:
        """Retry waits (the rate limiter's pacing waits are a fraction of a second)."""
        return [seconds for seconds in self.calls if seconds >= 0.5]


@dataclass
class Env:
    fake: FakeHubSpot
    base_url: str
    sleep: RecordingSleep

    def client(self, token: str = TOKEN, **config: object) -> HubSpotClient:
        settings: dict[str, object] = {"requests_per_second": 1000.0, **config}
        return HubSpotClient(
            HubSpotConfig(access_token=token, base_url=self.base_url, **settings),  # type: ignore[arg-type]
            sleep=self.sleep,
        )


@pytest.fixture
def env() -> Iterator[Env]:
    clock = FakeClock()
    fake = FakeHubSpot(access_token=TOKEN, clock=clock)
    with serve_hubspot(fake) as server:
        yield Env(fake=fake, base_url=server.base_url, sleep=RecordingSleep(clock))


def contact_row(n: int, email: str | None = None) -> dict[str, str]:
    return {
        "email": email or f"person{n}@brand{n}.com",
        "firstname": f"First{n}",
        "lastname": f"Last{n}",
        "jobtitle": "Founder",
        "company": f"Brand {n}",
        "website": f"brand{n}.com",
        "outreach_brand_id": f"B{n:04d}",
        "outreach_segment": "growth",
        "outreach_score": "81.5",
        "outreach_lead_category": "Interested",
        "outreach_positive_reply_at": "2026-10-02T10:00:00Z",
    }


def contact_inputs(count: int) -> list[dict[str, object]]:
    return [hubspot_contact_input(contact_row(n)) for n in range(count)]


def upsert_all(client: HubSpotClient, inputs: list[dict[str, object]], size: int = 100) -> list:
    results = []
    for start in range(0, len(inputs), size):
        results.extend(client.upsert_contacts(inputs[start : start + size]))
    return results


# --- config ---------------------------------------------------------------------------------------


def test_config_from_env_defaults_and_overrides() -> None:
    config = HubSpotConfig.from_env({"DESTINATION__HUBSPOT__ACCESS_TOKEN": TOKEN})
    assert config.base_url == "https://api.hubapi.com"
    assert config.batch_size == 100
    assert config.requests_per_second == 9.0
    assert config.company_id_property == "outreach_brand_id"
    assert TOKEN not in repr(config)
    custom = HubSpotConfig.from_env(
        {
            "DESTINATION__HUBSPOT__ACCESS_TOKEN": TOKEN,
            "DESTINATION__HUBSPOT__BASE_URL": "http://127.0.0.1:9/",
            "DESTINATION__HUBSPOT__BATCH_SIZE": "50",
            "DESTINATION__HUBSPOT__REQUESTS_PER_SECOND": "18",
        }
    )
    assert (custom.base_url, custom.batch_size, custom.requests_per_second) == ("http://127.0.0.1:9", 50, 18.0)


def test_config_refuses_bad_values() -> None:
    with pytest.raises(MissingSecretError, match="DESTINATION__HUBSPOT__ACCESS_TOKEN"):
        HubSpotConfig.from_env({})
    with pytest.raises(ValueError, match="batch_size"):
        HubSpotConfig(access_token=TOKEN, batch_size=101)
    with pytest.raises(ValueError, match="batch_size"):
        HubSpotConfig.from_env({"DESTINATION__HUBSPOT__ACCESS_TOKEN": TOKEN, "DESTINATION__HUBSPOT__BATCH_SIZE": "500"})
    with pytest.raises(ValueError, match="REQUESTS_PER_SECOND"):
        HubSpotConfig.from_env(
            {"DESTINATION__HUBSPOT__ACCESS_TOKEN": TOKEN, "DESTINATION__HUBSPOT__REQUESTS_PER_SECOND": "0"}
        )


def test_config_from_process_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESTINATION__HUBSPOT__ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("DESTINATION__HUBSPOT__BATCH_SIZE", "25")
    config = HubSpotConfig.from_env()
    assert config.access_token == TOKEN
    assert config.batch_size == 25


# --- contacts -------------------------------------------------------------------------------------


def test_upsert_250_contacts_in_three_calls_then_again_not_new(env: Env) -> None:
    client = env.client()
    inputs = contact_inputs(250)
    first = upsert_all(client, inputs)
    assert client.calls == 3
    assert env.fake.calls_by_path[CONTACTS_UPSERT_PATH] == 3
    assert [r.record_key for r in first] == [i["id"] for i in inputs]
    assert all(r.ok and r.is_new is True and r.hubspot_id and r.error is None for r in first)
    assert len({r.hubspot_id for r in first}) == 250
    assert len(env.fake.contacts) == 250
    stored = env.fake.contacts["person7@brand7.com"]["properties"]
    assert stored["outreach_brand_id"] == "B0007"
    assert stored["firstname"] == "First7"

    second = upsert_all(client, inputs)
    assert client.calls == 6
    assert all(r.ok and r.is_new is False for r in second)
    assert [r.hubspot_id for r in second] == [r.hubspot_id for r in first]
    assert len(env.fake.contacts) == 250


def test_results_matched_by_email_not_by_order(env: Env) -> None:
    env.fake.reverse_results = True
    client = env.client()
    inputs = contact_inputs(3)
    results = client.upsert_contacts(inputs)
    for result in results:
        assert env.fake.contacts[result.record_key]["id"] == result.hubspot_id


def test_207_partial_failure_marks_exactly_the_bad_rows(env: Env) -> None:
    env.fake.invalid_ids = {"person3@brand3.com"}
    inputs = contact_inputs(5)
    inputs.append(hubspot_contact_input(contact_row(99, email="not-an-email")))
    client = env.client()
    results = client.upsert_contacts(inputs)
    assert client.calls == 1
    by_key = {r.record_key: r for r in results}
    failed = {key for key, r in by_key.items() if not r.ok}
    assert failed == {"person3@brand3.com", "not-an-email"}
    assert "person3@brand3.com" in (by_key["person3@brand3.com"].error or "")
    assert "INVALID_EMAIL" in (by_key["not-an-email"].error or "")
    assert all(by_key[key].permanent and by_key[key].hubspot_id is None for key in failed)
    ok = [r for r in results if r.ok]
    assert len(ok) == 4
    assert all(r.is_new and r.hubspot_id == env.fake.contacts[r.record_key]["id"] for r in ok)
    assert "person3@brand3.com" not in env.fake.contacts


def test_400_validation_error_fails_the_whole_batch_for_good(env: Env) -> None:
    env.fake.known_properties = {"contacts": {"email", "firstname", "lastname"}}
    client = env.client()
    results = client.upsert_contacts(contact_inputs(4))
    assert client.calls == 1  # a 400 is not retried
    assert len(results) == 4
    assert all(not r.ok and r.permanent for r in results)
    assert all("VALIDATION_ERROR" in (r.error or "") and "jobtitle" in (r.error or "") for r in results)
    assert env.fake.contacts == {}


@pytest.mark.parametrize("send_retry_after", [True, False])
def test_429_rolling_window_is_waited_out(env: Env, send_retry_after: bool) -> None:
    env.fake.rate_limit = 2
    env.fake.send_retry_after = send_retry_after
    client = env.client()
    client.upsert_contacts(contact_inputs(1))
    env.sleep.clock.advance(3.0)  # the window is now 3 s old: 7 s left of it
    client.upsert_contacts([hubspot_contact_input(contact_row(1))])
    results = client.upsert_contacts([hubspot_contact_input(contact_row(2))])
    assert env.fake.rate_limited == 1
    assert client.calls == 4
    assert all(r.ok and r.is_new for r in results)
    waits = env.sleep.long_waits
    assert len(waits) == 1
    if send_retry_after:
        assert waits == [7.0]  # Retry-After honoured: exactly what is left of the window
    else:
        assert waits == [10.0]  # no Retry-After: TEN_SECONDLY_ROLLING means a whole 10 s window


def test_429_with_other_policy_uses_shared_backoff(env: Env) -> None:
    """No Retry-After and no known rolling window: the shared exponential backoff applies."""
    env.fake.rate_limit = 1
    env.fake.rate_window_seconds = 5.0
    env.fake.policy_name = "DAILY"
    retry = RetryPolicy(max_attempts=3, backoff_base_seconds=2.0, jitter_ratio=0.0)
    client = HubSpotClient(
        HubSpotConfig(access_token=TOKEN, base_url=env.base_url, requests_per_second=1000.0),
        sleep=env.sleep,
        retry=retry,
    )
    client.upsert_contacts(contact_inputs(1))
    results = client.upsert_contacts([hubspot_contact_input(contact_row(5))])
    assert all(r.ok for r in results)
    assert env.sleep.long_waits == [2.0, 4.0]
    assert env.fake.rate_limited == 2


def test_429_until_retries_run_out_fails_rows_not_permanently(env: Env) -> None:
    env.fake.rate_limit = 1
    env.fake.rate_window_seconds = 3600.0
    client = env.client()
    client.upsert_contacts(contact_inputs(1))
    results = client.upsert_contacts([hubspot_contact_input(contact_row(5))])
    assert all(not r.ok and r.permanent is False and "429" in (r.error or "") for r in results)
    assert env.sleep.long_waits == [10.0] * 4


def test_500_twice_then_ok(env: Env) -> None:
    env.fake.fail_next(2)
    client = env.client()
    results = client.upsert_contacts(contact_inputs(3))
    assert client.calls == 3
    assert all(r.ok and r.is_new for r in results)
    assert len(env.sleep.long_waits) == 2
    assert len(env.fake.contacts) == 3


def test_retries_exhausted_rows_fail_not_permanently(env: Env) -> None:
    env.fake.fail_next(100)
    client = env.client()
    results = client.upsert_contacts(contact_inputs(2))
    assert client.calls == 5  # the policy's max_attempts
    assert all(not r.ok and r.permanent is False for r in results)
    assert all("500" in (r.error or "") for r in results)


def test_401_raises_auth_error_without_leaking_the_token(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = env.client(token="pat-na1-wrong-token-999")
    with pytest.raises(ApiAuthError) as raised:
        client.upsert_contacts(contact_inputs(1))
    assert "hubspot" in str(raised.value)
    assert raised.value.status == 401
    assert client.calls == 1
    for secret in ("pat-na1-wrong-token-999", TOKEN):
        assert secret not in str(raised.value)
        assert secret not in repr(raised.value)
        assert secret not in caplog.text
        assert secret not in repr(client.config)


def test_token_not_logged_on_retries(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    env.fake.fail_next(1)
    env.client().upsert_contacts(contact_inputs(1))
    assert "retry" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    "inputs",
    [
        pytest.param(contact_inputs(101), id="over-100"),
        pytest.param([hubspot_contact_input(contact_row(1)), hubspot_contact_input(contact_row(1))], id="dup"),
        pytest.param(
            [
                hubspot_contact_input(contact_row(1, email="Jane@Acme.com")),
                hubspot_contact_input(contact_row(2, email="jane@acme.com")),
            ],
            id="dup-case",
        ),
        pytest.param([{"idProperty": "email", "properties": {}}], id="no-id"),
    ],
)
def test_bad_batches_refused_before_any_call(env: Env, inputs: list[dict[str, object]]) -> None:
    client = env.client()
    with pytest.raises(ValueError):
        client.upsert_contacts(inputs)
    assert client.calls == 0
    assert env.fake.calls == 0


def test_smaller_configured_batch_size_is_enforced(env: Env) -> None:
    client = env.client(batch_size=10)
    with pytest.raises(ValueError, match="at most 10"):
        client.upsert_contacts(contact_inputs(11))
    assert client.calls == 0
    assert client.upsert_contacts([]) == []
    assert client.calls == 0


def test_fake_refuses_what_the_client_would_not_send(env: Env) -> None:
    """The fake's own guards (a client without the local checks would hit them)."""
    import requests

    url = f"{env.base_url}{CONTACTS_UPSERT_PATH}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    too_many = requests.post(url, json={"inputs": contact_inputs(101)}, headers=headers, timeout=5)
    assert too_many.status_code == 400
    assert too_many.json()["category"] == "VALIDATION_ERROR"
    dup = [hubspot_contact_input(contact_row(1))] * 2
    duplicate = requests.post(url, json={"inputs": dup}, headers=headers, timeout=5)
    assert duplicate.status_code == 400
    assert "Duplicate" in duplicate.json()["message"]
    no_auth = requests.post(url, json={"inputs": dup[:1]}, timeout=5)
    assert no_auth.status_code == 401
    assert no_auth.json()["category"] == "INVALID_AUTHENTICATION"


# --- companies and associations -------------------------------------------------------------------


def company_input(brand_id: str, name: str, domain: str) -> dict[str, object]:
    return {"id": brand_id, "properties": {"name": name, "domain": domain, "outreach_brand_id": brand_id}}


def test_companies_upserted_by_custom_property_and_associated_once(env: Env) -> None:
    client = env.client()
    # two brands on the same domain: distinct companies, because the id property is the brand id
    companies = client.upsert_companies(
        [company_input("B0001", "Acme Kitchen", "acme.com"), company_input("B0002", "Acme Garden", "acme.com")]
    )
    assert all(r.ok and r.is_new for r in companies)
    assert set(env.fake.companies) == {"B0001", "B0002"}
    sent = env.fake.calls_by_path[COMPANIES_UPSERT_PATH]
    assert sent == 1

    again = client.upsert_companies([company_input("B0001", "Acme Kitchen Co", "acme.com")])
    assert again[0].ok and again[0].is_new is False and again[0].hubspot_id == companies[0].hubspot_id
    assert env.fake.companies["B0001"]["properties"]["name"] == "Acme Kitchen Co"

    contact = client.upsert_contacts([hubspot_contact_input(contact_row(1))])[0]
    assert contact.hubspot_id and companies[0].hubspot_id
    client.associate_contact_company(contact.hubspot_id, companies[0].hubspot_id)
    client.associate_contact_company(contact.hubspot_id, companies[0].hubspot_id)
    assert env.fake.associations == {(contact.hubspot_id, companies[0].hubspot_id)}
    path = ASSOCIATION_PATH.format(contact_id=contact.hubspot_id, company_id=companies[0].hubspot_id)
    assert env.fake.calls_by_path[path] == 2


def test_companies_updated_by_object_id_keep_their_object_and_take_a_new_brand_id(env: Env) -> None:
    """A company created under a brand id that has changed since is written by HubSpot's object id:
    its outreach_brand_id moves to the new id on the same object; a value another company holds,
    or an object that does not exist, fails that input only (207)."""
    client = env.client()
    created = client.upsert_companies(
        [company_input("OLD1", "Acme Kitchen", "acme.com"), company_input("B0002", "Acme Garden", "acme.com")]
    )
    kitchen, garden = (str(result.hubspot_id) for result in created)
    env.fake.reverse_results = True
    results = client.update_companies(
        [
            {"id": kitchen, "properties": {"name": "Acme Kitchen Co", "outreach_brand_id": "NEW1", "domain": ""}},
            {"id": garden, "properties": {"outreach_brand_id": "NEW1"}},  # NEW1 is taken by then
            {"id": "999999", "properties": {"name": "Nobody"}},
        ]
    )
    assert env.fake.calls_by_path[COMPANIES_UPDATE_PATH] == 1
    assert [(r.record_key, r.ok, r.hubspot_id) for r in results] == [
        (kitchen, True, kitchen),
        (garden, False, None),
        ("999999", False, None),
    ]
    assert results[1].permanent and "NEW1" in (results[1].error or "")
    assert results[2].permanent and "OBJECT_NOT_FOUND" in (results[2].error or "")
    # one object, now under the new id, the empty domain not sent (kept)
    assert set(env.fake.companies) == {"NEW1", "B0002"}
    stored = env.fake.companies["NEW1"]
    assert stored["id"] == kitchen
    assert (stored["properties"]["name"], stored["properties"]["domain"]) == ("Acme Kitchen Co", "acme.com")
    # an upsert by the new id now reaches that object
    again = client.upsert_companies([company_input("NEW1", "Acme Kitchen", "acme.com")])
    assert again[0].hubspot_id == kitchen and again[0].is_new is False
    assert len(env.fake.companies) == 2
    with pytest.raises(ValueError, match="idProperty"):
        client.update_companies([company_input("NEW1", "Acme", "acme.com") | {"idProperty": "outreach_brand_id"}])


def test_companies_destination_updates_the_ones_known_by_object_id_and_upserts_the_others(env: Env) -> None:
    client = env.client()
    (known,) = client.upsert_companies([company_input("OLD1", "Acme Kitchen", "acme.com")])
    assert known.hubspot_id is not None
    upsert = SyncRecord(
        HUBSPOT_COMPANIES,
        "companies",
        "B0002",
        {
            "idProperty": "outreach_brand_id",
            "id": "B0002",
            "properties": {"name": "Garden", "outreach_brand_id": "B0002"},
        },
    )
    update = SyncRecord(
        HUBSPOT_COMPANIES,
        "companies",
        "NEW1",
        hubspot_company_update_input({"outreach_brand_id": "NEW1", "name": "Kitchen"}, known.hubspot_id),
    )
    answer = HubSpotCompanies(client).send("companies", [update, upsert])
    outcomes = {outcome.record_key: (outcome.status, outcome.remote_id) for outcome in answer.outcomes}
    assert outcomes == {"NEW1": ("sent", known.hubspot_id), "B0002": ("sent", env.fake.companies["B0002"]["id"])}
    assert (env.fake.calls_by_path[COMPANIES_UPDATE_PATH], env.fake.calls_by_path[COMPANIES_UPSERT_PATH]) == (1, 2)
    assert set(env.fake.companies) == {"NEW1", "B0002"} and env.fake.companies["NEW1"]["id"] == known.hubspot_id


def test_fake_batch_update_refuses_what_hubspot_refuses(env: Env) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{env.base_url}{COMPANIES_UPDATE_PATH}"
    created = env.client().upsert_companies([company_input("B0001", "Acme", "acme.com")])
    object_id = created[0].hubspot_id
    refused: list[list[dict[str, object]]] = [
        [{"id": str(n), "properties": {}} for n in range(101)],  # over 100
        [{"id": object_id, "properties": {}}, {"id": object_id, "properties": {}}],  # duplicate ids
        [{"properties": {}}],  # no id
        [],
    ]
    for inputs in refused:
        body = {"inputs": inputs}
        answer = requests.post(url, json=body, headers=headers, timeout=5)
        assert answer.status_code == 400 and answer.json()["category"] == "VALIDATION_ERROR"
    answer = requests.post(
        url, json={"inputs": [{"id": object_id, "properties": {"name": "A"}}]}, headers=headers, timeout=5
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "COMPLETE" and "errors" not in body
    (result,) = body["results"]
    assert set(result) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert result["id"] == object_id and result["properties"]["name"] == "A" and result["archived"] is False
    # by a unique property instead of the object id (idProperty), as HubSpot allows
    by_brand = {"inputs": [{"idProperty": "outreach_brand_id", "id": "B0001", "properties": {"name": "B"}}]}
    assert requests.post(url, json=by_brand, headers=headers, timeout=5).json()["results"][0]["id"] == object_id
    partial = {"inputs": [{"id": object_id, "properties": {"name": "C"}}, {"id": "424242", "properties": {}}]}
    answer = requests.post(url, json=partial, headers=headers, timeout=5)
    assert answer.status_code == 207
    assert answer.json()["numErrors"] == 1 and answer.json()["errors"][0]["context"] == {"ids": ["424242"]}
    assert env.fake.companies["B0001"]["properties"]["name"] == "C"


def test_company_inputs_with_another_id_property_are_refused(env: Env) -> None:
    client = env.client()
    with pytest.raises(ValueError, match="idProperty"):
        client.upsert_companies([{"idProperty": "domain", "id": "acme.com", "properties": {}}])
    assert client.calls == 0


def test_fake_rejects_domain_as_company_id_property(env: Env) -> None:
    client = env.client(company_id_property="domain")
    results = client.upsert_companies([{"id": "acme.com", "properties": {"name": "Acme"}}])
    assert not results[0].ok and results[0].permanent
    assert "not a unique value property" in (results[0].error or "")


def test_association_to_missing_record_raises(env: Env) -> None:
    client = env.client()
    with pytest.raises(ApiRequestError, match="404"):
        client.associate_contact_company("1", "2")
    with pytest.raises(ValueError):
        client.associate_contact_company("1/../x", "2")


def test_an_empty_or_null_property_is_never_sent(env: Env) -> None:
    env.fake.typed_by_hand("contacts", "jane@brand.com", "email", firstname="Jane", jobtitle="CEO")
    properties = {"firstname": "", "jobtitle": None, "lastname": "Doe"}
    (result,) = env.client().upsert_contacts(
        [{"idProperty": "email", "id": "jane@brand.com", "properties": properties}]
    )
    assert result.ok
    assert env.fake.properties_sent("contacts", "jane@brand.com") == [{"lastname": "Doe"}]
    stored = env.fake.contacts["jane@brand.com"]["properties"]
    assert (stored["firstname"], stored["jobtitle"], stored["lastname"]) == ("Jane", "CEO", "Doe")


@pytest.mark.parametrize("fault", ["errors", "no_result"])
def test_an_association_200_that_confirms_nothing_raises(env: Env, fault: str) -> None:
    client = env.client()
    (contact,) = client.upsert_contacts([hubspot_contact_input(contact_row(1))])
    (company,) = client.upsert_companies(
        [{"idProperty": "outreach_brand_id", "id": "brand-1", "properties": {"name": "Brand 1"}}]
    )
    faults = env.fake.association_errors_for if fault == "errors" else env.fake.association_unconfirmed_for
    faults.add("person1@brand1.com")
    with pytest.raises(AssociationNotConfirmed) as raised:
        client.associate_contact_company(str(contact.hubspot_id), str(company.hubspot_id))
    assert raised.value.permanent is (fault == "errors")
    assert not env.fake.associations
