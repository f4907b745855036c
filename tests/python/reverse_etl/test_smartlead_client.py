"""Smartlead lead upload client against the fake Smartlead API, over real HTTP, with a recorded sleep."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from loaders.common.http import ApiAuthError, ApiRequestError, MissingSecretError, RetryPolicy
from reverse_etl.payloads import SMARTLEAD_LEAD_SETTINGS, smartlead_lead
from reverse_etl.smartlead_client import (
    AddLeadsResult,
    RowOutcome,
    SmartleadLeadsClient,
    SmartleadLeadsConfig,
)
from tests.python.fakes.server import RunningServer
from tests.python.fakes.smartlead import FakeClock, FakeSmartlead, serve_smartlead

KEY = "sl-SECRET-leads-key-9876543210"
CAMPAIGN = 101
LEADS_PATH = f"/campaigns/{CAMPAIGN}/leads"


def sync_row(index: int, *, email: str | None = None, domain: str = "acme.example") -> dict[str, Any]:
    """A row shaped like models/segmented/sync/sync_smartlead__leads.sql."""
    return {
        "campaign_id": CAMPAIGN,
        "brand_id": f"B{index:04d}",
        "email": email or f"lead{index:04d}@{domain}",
        "first_name": "Ana",
        "last_name": f"Ruiz{index}",
        "company_name": f"Brand {index}",
        "website": domain,
        "linkedin_profile": "",
        "company_url": f"https://{domain}",
        "custom_brand_id": f"B{index:04d}",
        "custom_segment": "A",
        "custom_score": "0.91",
        "custom_weights_version": "v1",
        "custom_category": "Kitchen",
        "custom_monthly_revenue_usd": "120000",
        "custom_year_growth_pct": "12.5",
        "custom_storefront_url": "",
    }


def leads(count: int, start: int = 0, **kwargs: Any) -> list[dict[str, Any]]:
    return [smartlead_lead(sync_row(index, **kwargs)) for index in range(start, start + count)]


@dataclass
class Harness:
    fake: FakeSmartlead
    server: RunningServer
    client: SmartleadLeadsClient
    sleeps: list[float]

    def bodies(self, path_suffix: str = "/leads") -> list[Any]:
        return [request.json() for request in self.server.requests if request.path.endswith(path_suffix)]


def make_harness(fake: FakeSmartlead, server: RunningServer, *, api_key: str = KEY, batch_size: int = 100) -> Harness:
    sleeps: list[float] = []
    clock = fake.clock

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if isinstance(clock, FakeClock):
            clock.advance(seconds)

    # pacing out of the way: at 1000/s a retry sent within 1 ms of real time (the fake's sleeps
    # take none) got a pacing sleep of a few microseconds in `sleeps`; pacing has its own test
    config = SmartleadLeadsConfig(
        api_key=api_key, base_url=server.base_url, batch_size=batch_size, requests_per_second=1e9
    )
    client = SmartleadLeadsClient(config, sleep=sleep, retry=RetryPolicy(max_attempts=4, timeout_seconds=5))
    return Harness(fake, server, client, sleeps)


@pytest.fixture
def fake() -> FakeSmartlead:
    fake = FakeSmartlead(api_key=KEY)
    fake.add_campaign(CAMPAIGN, "Q4 brands")
    return fake


@pytest.fixture
def harness(fake: FakeSmartlead) -> Iterator[Harness]:
    with serve_smartlead(fake) as server:
        yield make_harness(fake, server)


def send_all(client: SmartleadLeadsClient, items: list[dict[str, Any]], size: int) -> list[AddLeadsResult]:
    return [client.add_leads(CAMPAIGN, items[start : start + size]) for start in range(0, len(items), size)]


# --- configuration ----------------------------------------------------------------------------


def test_config_hides_key_and_refuses_batches_over_400() -> None:
    config = SmartleadLeadsConfig(api_key=KEY)
    assert KEY not in repr(config)
    assert config.base_url == "https://server.smartlead.ai/api/v1"
    assert config.batch_size == 100
    assert config.requests_per_second == 1.0
    assert SmartleadLeadsConfig(api_key=KEY, batch_size=400).batch_size == 400
    with pytest.raises(ValueError, match="400"):
        SmartleadLeadsConfig(api_key=KEY, batch_size=401)
    with pytest.raises(ValueError):
        SmartleadLeadsConfig(api_key=KEY, batch_size=0)
    with pytest.raises(ValueError):
        SmartleadLeadsConfig(api_key=KEY, requests_per_second=0)


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    config = SmartleadLeadsConfig.from_env(
        {
            "DESTINATION__SMARTLEAD__API_KEY": KEY,
            "DESTINATION__SMARTLEAD__BASE_URL": "http://localhost:9/api/v1/",
            "DESTINATION__SMARTLEAD__BATCH_SIZE": "350",
            "DESTINATION__SMARTLEAD__REQUESTS_PER_SECOND": "0.5",
        }
    )
    assert (config.api_key, config.base_url, config.batch_size, config.requests_per_second) == (
        KEY,
        "http://localhost:9/api/v1",
        350,
        0.5,
    )
    with pytest.raises(ValueError):
        SmartleadLeadsConfig.from_env(
            {"DESTINATION__SMARTLEAD__API_KEY": KEY, "DESTINATION__SMARTLEAD__BATCH_SIZE": "500"}
        )
    monkeypatch.delenv("DESTINATION__SMARTLEAD__API_KEY", raising=False)
    monkeypatch.setattr("loaders.common.http.resolve_secret", lambda *args, **kwargs: None)
    with pytest.raises(MissingSecretError, match="DESTINATION__SMARTLEAD__API_KEY"):
        SmartleadLeadsConfig.from_env({})


# --- add leads ----------------------------------------------------------------------------------


def test_250_leads_in_batches_of_100_are_all_accepted_and_stored(harness: Harness) -> None:
    items = leads(250)
    results = send_all(harness.client, items, 100)
    assert harness.client.calls == 3
    assert harness.fake.calls_to(LEADS_PATH) == 3
    assert [len(result.outcomes) for result in results] == [100, 100, 50]
    outcomes = [outcome for result in results for outcome in result.outcomes]
    assert all(outcome == RowOutcome(outcome.record_key, "accepted", None, False) for outcome in outcomes)
    assert [outcome.record_key for outcome in outcomes] == [lead["email"] for lead in items]
    assert harness.fake.emails_in(CAMPAIGN) == [lead["email"] for lead in items]
    assert results[2].raw_counts["upload_count"] == 50
    assert results[2].raw_counts["total_leads"] == 50
    stored = harness.fake.leads_in(CAMPAIGN)[0]
    assert stored["company_name"] == "Brand 0"
    assert stored["custom_fields"]["monthly_revenue_usd"] == "120000"
    # the api key travels as a query parameter on every call
    assert all(request.param("api_key") == KEY for request in harness.server.requests)


def test_settings_block_sends_all_four_flags_false(harness: Harness) -> None:
    harness.client.add_leads(CAMPAIGN, leads(2))
    (body,) = harness.bodies()
    assert body["settings"] == {
        "ignore_global_block_list": False,
        "ignore_unsubscribe_list": False,
        "ignore_community_bounce_list": False,
        "ignore_duplicate_leads_in_other_campaign": False,
    }
    assert body["settings"] == SMARTLEAD_LEAD_SETTINGS
    assert [lead["email"] for lead in body["lead_list"]] == [lead["email"] for lead in leads(2)]
    assert "campaign_id" not in body["lead_list"][0]  # routing columns are not lead fields


def test_resending_counts_already_added_and_stores_no_duplicates(harness: Harness) -> None:
    items = leads(30)
    harness.client.add_leads(CAMPAIGN, items)
    again = harness.client.add_leads(CAMPAIGN, items)
    assert all(outcome.status == "accepted" for outcome in again.outcomes)
    assert again.raw_counts["already_added_to_campaign"] == 30
    assert again.raw_counts["total_leads"] == 0
    assert len(harness.fake.leads_in(CAMPAIGN)) == 30


def test_invalid_and_unsubscribed_emails_are_per_row_outcomes(fake: FakeSmartlead) -> None:
    fake.invalid_emails = {"bad@invalid.example"}
    fake.unsubscribed_emails = {"gone@acme.example"}
    with serve_smartlead(fake) as server:
        client = make_harness(fake, server).client
        items = [
            *leads(2),
            smartlead_lead(sync_row(10, email="not-an-email")),
            smartlead_lead(sync_row(11, email="bad@invalid.example")),
            smartlead_lead(sync_row(12, email="Gone@Acme.example")),
        ]
        result = client.add_leads(CAMPAIGN, items)
    by_key = {outcome.record_key: outcome for outcome in result.outcomes}
    assert by_key["lead0000@acme.example"] == RowOutcome("lead0000@acme.example", "accepted", None, False)
    assert by_key["not-an-email"] == RowOutcome("not-an-email", "failed", "invalid email", True)
    assert by_key["bad@invalid.example"] == RowOutcome("bad@invalid.example", "failed", "invalid email", True)
    assert by_key["Gone@Acme.example"] == RowOutcome("Gone@Acme.example", "refused", "unsubscribed in Smartlead", True)
    assert [len(result.accepted), len(result.failed), len(result.refused)] == [2, 2, 1]
    assert result.raw_counts["invalid_email_count"] == 2
    assert fake.emails_in(CAMPAIGN) == ["lead0000@acme.example", "lead0001@acme.example"]


def test_unsubscribed_leads_listed_as_objects_are_read(fake: FakeSmartlead) -> None:
    fake.unsubscribed_emails = {"gone@acme.example"}
    fake.unsubscribed_as_objects = True
    with serve_smartlead(fake) as server:
        client = make_harness(fake, server).client
        result = client.add_leads(CAMPAIGN, [smartlead_lead(sync_row(1, email="gone@acme.example"))])
    assert result.outcomes == [RowOutcome("gone@acme.example", "refused", "unsubscribed in Smartlead", True)]


def test_guide_response_shape_is_read(fake: FakeSmartlead) -> None:
    fake.response_shape = "guide"
    with serve_smartlead(fake) as server:
        client = make_harness(fake, server).client
        client.add_leads(CAMPAIGN, leads(3))
        result = client.add_leads(CAMPAIGN, leads(4))
    assert result.raw_counts == {"added_count": 1, "skipped_count": 3}
    assert [outcome.status for outcome in result.outcomes] == ["accepted"] * 4


def test_batch_over_the_cap_or_with_duplicates_is_refused_before_sending(harness: Harness) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        harness.client.add_leads(CAMPAIGN, leads(101))
    duplicate = leads(1)[0]
    with pytest.raises(ValueError, match="duplicate"):
        harness.client.add_leads(CAMPAIGN, [duplicate, {**duplicate, "email": duplicate["email"].upper()}])
    with pytest.raises(ValueError, match="no email"):
        harness.client.add_leads(CAMPAIGN, [{"first_name": "Ana"}])
    assert harness.client.add_leads(CAMPAIGN, []).outcomes == []
    assert harness.client.calls == 0
    assert harness.server.requests == []


def test_a_batch_over_the_servers_cap_is_a_configuration_error_not_a_permanent_failure(fake: FakeSmartlead) -> None:
    """A client configured above the server's cap (here 50) sees the batch refused for its size:
    the rows stay retryable and the error names the setting to change."""
    fake.lead_cap = 50
    with serve_smartlead(fake) as server:
        client = make_harness(fake, server, batch_size=100).client
        result = client.add_leads(CAMPAIGN, leads(51))
    assert (result.batch_status, result.batch_size_refused) == (400, True)
    assert all(outcome.status == "failed" and not outcome.permanent for outcome in result.outcomes)
    assert "DESTINATION__SMARTLEAD__BATCH_SIZE" in (result.outcomes[0].error or "")
    assert client.calls == 1  # not retried
    assert fake.leads_in(CAMPAIGN) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda body: body.pop("settings"), "settings is required"),
        (lambda body: body["lead_list"][0]["custom_fields"].update(score=0.91), "string values"),
        (lambda body: body["lead_list"][0]["custom_fields"].update(score=None), "string values"),
    ],
)
def test_fake_rejects_a_body_against_the_contract(
    harness: Harness, change: Callable[[dict[str, Any]], object], message: str
) -> None:
    body = {"lead_list": leads(1), "settings": dict(SMARTLEAD_LEAD_SETTINGS)}
    change(body)
    response = requests.post(
        f"{harness.server.base_url}/campaigns/{CAMPAIGN}/leads", params={"api_key": KEY}, json=body, timeout=5
    )
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert harness.fake.leads_in(CAMPAIGN) == []


def test_custom_fields_are_sent_as_strings(harness: Harness) -> None:
    row = {**sync_row(1), "custom_year_growth_pct": None, "custom_score": 0.5}
    result = harness.client.add_leads(CAMPAIGN, [smartlead_lead(row)])
    assert [outcome.status for outcome in result.outcomes] == ["accepted"]
    (body,) = harness.bodies()
    assert body["lead_list"][0]["custom_fields"]["year_growth_pct"] == ""
    assert body["lead_list"][0]["custom_fields"]["score"] == "0.5"


def test_a_bad_body_in_a_small_batch_fails_its_rows_permanently(fake: FakeSmartlead) -> None:
    with serve_smartlead(fake) as server:
        client = make_harness(fake, server).client
        result = client.add_leads(CAMPAIGN, [{"email": "a@acme.example", "custom_fields": {"score": 1}}])
    assert (result.batch_status, result.batch_size_refused) == (400, False)
    assert [(outcome.status, outcome.permanent) for outcome in result.outcomes] == [("failed", True)]


def test_429_with_retry_after_is_honoured(fake: FakeSmartlead) -> None:
    fake.rate_limit = 1
    fake.rate_window_seconds = 30
    with serve_smartlead(fake) as server:
        harness = make_harness(fake, server)
        first = harness.client.add_leads(CAMPAIGN, leads(10))
        second = harness.client.add_leads(CAMPAIGN, leads(10, start=10))
    assert fake.rate_limited == 1
    assert harness.sleeps == [30.0]  # Retry-After, not the exponential backoff
    assert harness.client.calls == 3
    assert all(outcome.status == "accepted" for outcome in [*first.outcomes, *second.outcomes])
    assert len(fake.leads_in(CAMPAIGN)) == 20


def test_500_is_retried_then_ok(harness: Harness) -> None:
    harness.fake.fail_next(2)
    result = harness.client.add_leads(CAMPAIGN, leads(5))
    assert harness.client.calls == 3
    assert len(harness.sleeps) == 2
    assert [outcome.status for outcome in result.outcomes] == ["accepted"] * 5
    assert len(harness.fake.leads_in(CAMPAIGN)) == 5


def test_500s_exhausting_retries_raise(harness: Harness) -> None:
    harness.fake.fail_next(10)
    with pytest.raises(ApiRequestError, match="gave up after 4 attempts") as error:
        harness.client.add_leads(CAMPAIGN, leads(5))
    assert error.value.status == 500
    assert KEY not in str(error.value)


def test_unknown_campaign_fails_rows_permanently(harness: Harness) -> None:
    result = harness.client.add_leads(999, leads(3))
    assert result.batch_status == 404
    assert [(outcome.status, outcome.permanent) for outcome in result.outcomes] == [("failed", True)] * 3
    assert "404" in (result.outcomes[0].error or "")
    assert KEY not in (result.outcomes[0].error or "")
    assert harness.client.calls == 1


def test_bad_key_raises_auth_error_without_leaking_it(fake: FakeSmartlead, caplog: pytest.LogCaptureFixture) -> None:
    wrong = "sl-WRONG-key-5555555555"
    caplog.set_level(logging.DEBUG)
    with serve_smartlead(fake) as server:
        client = make_harness(fake, server, api_key=wrong).client
        with pytest.raises(ApiAuthError, match="smartlead") as error:
            client.add_leads(CAMPAIGN, leads(2))
        with pytest.raises(ApiAuthError):
            client.add_to_global_block_list(["acme.example"])
    assert error.value.status == 401
    assert client.calls == 2  # never retried
    assert wrong not in str(error.value)
    assert wrong not in caplog.text
    assert KEY not in caplog.text
    assert "api_key" not in str(error.value)


def test_successful_calls_do_not_log_the_key(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    harness.fake.fail_next(1)
    harness.client.add_leads(CAMPAIGN, leads(3))
    harness.client.add_to_global_block_list(["blocked.example"])
    assert caplog.text  # something was logged (retry warning, urllib3 debug lines, summary)
    assert KEY not in caplog.text


# --- global block list ------------------------------------------------------------------------


def test_block_list_is_stored_and_blocks_later_leads(harness: Harness) -> None:
    sent = harness.client.add_to_global_block_list(["Blocked.example", "one@acme.example", "blocked.example "])
    assert sent == 2
    assert harness.fake.block_list == ["blocked.example", "one@acme.example"]
    (body,) = harness.bodies("/leads/add-domain-block-list")
    assert body == {"domain_block_list": ["blocked.example", "one@acme.example"]}

    items = [
        smartlead_lead(sync_row(1, email="ceo@blocked.example")),
        smartlead_lead(sync_row(2, email="one@acme.example")),
        smartlead_lead(sync_row(3, email="two@acme.example")),
    ]
    result = harness.client.add_leads(CAMPAIGN, items)
    assert result.block_count == 2  # batch-level: Smartlead does not say which
    assert result.raw_counts["total_leads"] == 1
    assert harness.fake.emails_in(CAMPAIGN) == ["two@acme.example"]


def test_block_list_is_sent_in_chunks_of_100(harness: Harness) -> None:
    entries = [f"domain{index}.example" for index in range(250)]
    assert harness.client.add_to_global_block_list(entries) == 250
    assert harness.fake.calls_to("/leads/add-domain-block-list") == 3
    assert [len(body["domain_block_list"]) for body in harness.bodies("/leads/add-domain-block-list")] == [100, 100, 50]
    assert harness.fake.block_list == entries
    assert harness.client.add_to_global_block_list([]) == 0
    with pytest.raises(ValueError):
        harness.client.add_to_global_block_list(["ok.example", " "])


def test_rate_limiter_paces_calls(fake: FakeSmartlead) -> None:
    """The configured requests_per_second paces calls through the injected sleep."""
    with serve_smartlead(fake) as server:
        sleeps: list[float] = []
        config = SmartleadLeadsConfig(api_key=KEY, base_url=server.base_url, requests_per_second=0.5)
        client = SmartleadLeadsClient(config, sleep=sleeps.append)
        for start in range(0, 30, 10):
            client.add_leads(CAMPAIGN, leads(10, start=start))
    assert len(sleeps) == 2
    assert all(1.5 < seconds <= 2.0 for seconds in sleeps)


# --- answers that confirm nothing -------------------------------------------------------------


def test_an_empty_answer_leaves_every_lead_unconfirmed(fake: FakeSmartlead) -> None:
    fake.empty_lead_answers = True
    with serve_smartlead(fake) as server:
        result = make_harness(fake, server).client.add_leads(CAMPAIGN, leads(3))
    assert [outcome.status for outcome in result.outcomes] == ["unconfirmed"] * 3
    assert result.outcomes[0].error == "not confirmed by Smartlead: its answer accounts for 0 of the 3 leads sent"
    assert result.accounted == 0


def test_counts_short_of_the_batch_leave_the_leads_not_named_unconfirmed(fake: FakeSmartlead) -> None:
    fake.invalid_emails = {"bad@invalid.example"}
    fake.omitted_answer_keys = {"upload_count", "already_added_to_campaign"}
    with serve_smartlead(fake) as server:
        client = make_harness(fake, server).client
        client.add_leads(CAMPAIGN, leads(1))  # already in the campaign: the answer will not say so
        items = [*leads(3), smartlead_lead(sync_row(9, email="bad@invalid.example"))]
        result = client.add_leads(CAMPAIGN, items)
    by_key = {outcome.record_key: outcome.status for outcome in result.outcomes}
    assert by_key == {
        "lead0000@acme.example": "unconfirmed",
        "lead0001@acme.example": "unconfirmed",
        "lead0002@acme.example": "unconfirmed",
        "bad@invalid.example": "failed",
    }
    assert result.accounted == 3


@pytest.mark.parametrize("shape", ["list", "count", "guide"])
def test_counts_that_account_for_the_batch_confirm_it(fake: FakeSmartlead, shape: str) -> None:
    fake.unsubscribed_emails = {"gone@acme.example"}
    fake.unsubscribed_as_count = shape == "count"
    fake.response_shape = "guide" if shape == "guide" else "observed"
    fake.omitted_answer_keys = {"upload_count"}  # the counts alone must add up
    with serve_smartlead(fake) as server:
        client = make_harness(fake, server).client
        client.add_leads(CAMPAIGN, leads(2))
        result = client.add_leads(CAMPAIGN, [*leads(4), smartlead_lead(sync_row(8, email="gone@acme.example"))])
    assert not result.unconfirmed
    assert result.accounted == 5
