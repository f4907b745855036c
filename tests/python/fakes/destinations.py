"""Fake Smartlead and HubSpot servers for reverse-ETL runs through the real CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from tests.python.fakes.hubspot import FakeHubSpot, serve_hubspot
from tests.python.fakes.server import Reply, Request, serve
from tests.python.fakes.smartlead import FakeSmartlead

SMARTLEAD_KEY = "sl-test-key"


@dataclass
class Destinations:
    smartlead: FakeSmartlead
    hubspot: FakeHubSpot
    env: dict[str, str]
    slow_leads: list[bool]  # [True] makes the fake answer add-leads calls 30 s late

    def smartlead_calls(self) -> int:
        return sum(self.smartlead.path_calls.values())


@contextmanager
def running_destinations() -> Iterator[Destinations]:
    """Fake Smartlead (campaigns 1001-1003, the seed's) and HubSpot servers, and the environment
    that points a production `outreach sync` at them."""
    smartlead = FakeSmartlead(api_key=SMARTLEAD_KEY)
    for campaign_id, name in [(1001, "Segment A"), (1002, "Segment B"), (1003, "Segment C")]:
        smartlead.add_campaign(campaign_id, name)
    hubspot = FakeHubSpot()
    slow_leads = [False]

    def smartlead_handler(request: Request) -> Reply:
        reply = smartlead(request)  # the fake acts on the request first...
        if slow_leads[0] and request.path.endswith("/leads"):
            reply.delay_seconds = 30  # ...and answers late: time to kill the client mid-request
        return reply

    with ExitStack() as stack:
        smartlead_server = stack.enter_context(serve(smartlead_handler))
        hubspot_server = stack.enter_context(serve_hubspot(hubspot))
        env = {
            "PIPELINE_MODE": "production",
            "SOURCES__SMARTLEAD__API_KEY": "events-are-polled",  # production needs events ingested
            "DESTINATION__SMARTLEAD__API_KEY": SMARTLEAD_KEY,
            "DESTINATION__SMARTLEAD__BASE_URL": f"{smartlead_server.base_url}/api/v1",
            "DESTINATION__SMARTLEAD__REQUESTS_PER_SECOND": "1000",
            "DESTINATION__HUBSPOT__ACCESS_TOKEN": hubspot.access_token,
            "DESTINATION__HUBSPOT__BASE_URL": hubspot_server.base_url,
            "DESTINATION__HUBSPOT__REQUESTS_PER_SECOND": "1000",
        }
        yield Destinations(smartlead, hubspot, env, slow_leads)
