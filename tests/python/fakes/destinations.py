"""Fake Smartlead and HubSpot servers for reverse-ETL runs through the real CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from tests.python.fakes.hubspot import FakeHubSpot, serve_hubspot
from tests.python.fakes.server import Reply, Request, serve
from tests.python.fakes.smartlead import FakeSmartlead

SMARTLEAD_KEY = "sl-test-key"
SLOW_REPLY_SECONDS = 30

UploadHook = Callable[[int, Request], None]  # (add-leads call number from 1, the request)


@dataclass
class Destinations:
    smartlead: FakeSmartlead
    hubspot: FakeHubSpot
    env: dict[str, str]
    # add-leads calls (numbered from 1, every campaign, retries included) that the fake acts on
    # at once but answers 30 s late: time to kill the client mid-request
    slow_uploads: set[int] = field(default_factory=set)
    # called before the fake acts on each add-leads call (e.g. to change the warehouse between batches)
    upload_hooks: list[UploadHook] = field(default_factory=list)
    smartlead_paths: list[str] = field(default_factory=list)  # every Smartlead request path, in order
    lead_uploads_received: int = 0

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
    destinations = Destinations(smartlead, hubspot, env={})

    def smartlead_handler(request: Request) -> Reply:
        destinations.smartlead_paths.append(request.path)
        is_upload = request.method == "POST" and request.path.rstrip("/").endswith("/leads")
        number = 0
        if is_upload:
            destinations.lead_uploads_received += 1
            number = destinations.lead_uploads_received
            for hook in destinations.upload_hooks:
                hook(number, request)
        reply = smartlead(request)  # the fake acts on the request first...
        if number in destinations.slow_uploads:
            reply.delay_seconds = SLOW_REPLY_SECONDS  # ...and answers late
        return reply

    with ExitStack() as stack:
        smartlead_server = stack.enter_context(serve(smartlead_handler))
        hubspot_server = stack.enter_context(serve_hubspot(hubspot))
        destinations.env.update(
            {
                "PIPELINE_MODE": "production",
                "SOURCES__SMARTLEAD__API_KEY": "events-are-polled",  # production needs events ingested
                "DESTINATION__SMARTLEAD__API_KEY": SMARTLEAD_KEY,
                "DESTINATION__SMARTLEAD__BASE_URL": f"{smartlead_server.base_url}/api/v1",
                "DESTINATION__SMARTLEAD__REQUESTS_PER_SECOND": "1000",
                "DESTINATION__HUBSPOT__ACCESS_TOKEN": hubspot.access_token,
                "DESTINATION__HUBSPOT__BASE_URL": hubspot_server.base_url,
                "DESTINATION__HUBSPOT__REQUESTS_PER_SECOND": "1000",
            }
        )
        yield destinations
