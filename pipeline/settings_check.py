"""Every setting a command reads, checked before the command does any work (no dbt, no dlt, no
request): a bad value is one line naming the setting, what is wrong and the fix. A command is
checked only for the settings it reads, so a bad Apollo setting never stops `summary`."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from loaders.apollo.client import API_KEY_ENV as APOLLO_KEY_ENV
from loaders.apollo.client import ApolloConfig
from loaders.common.http import SECRETS_FILE, resolve_secret
from loaders.common.progress import PROGRESS_SECONDS_ENV
from loaders.common.settings_env import non_negative_float
from loaders.smartlead.poller import API_KEY_ENV as SMARTLEAD_POLL_KEY_ENV
from loaders.smartlead.poller import SmartleadPollConfig
from loaders.smartlead.webhook_receiver import ReceiverLimits
from loaders.smartscout.client import API_KEY_ENV as SMARTSCOUT_KEY_ENV
from loaders.smartscout.client import SmartScoutConfig
from pipeline.alerts import AlertSettings
from pipeline.settings import Settings
from reverse_etl.hubspot_client import ACCESS_TOKEN_ENV as HUBSPOT_TOKEN_ENV
from reverse_etl.hubspot_client import HubSpotConfig
from reverse_etl.plans import VolumeCaps, max_age_hours
from reverse_etl.smartlead_client import API_KEY_ENV as SMARTLEAD_LEADS_KEY_ENV
from reverse_etl.smartlead_client import SmartleadLeadsConfig
from reverse_etl.sync import RESEND_UNCONFIRMED_ENV
from warehouse_layer import WarehouseError
from warehouse_layer.run_lock import max_age_from_env

# stands in for a missing key while the other settings of a source are read: keys are checked
# where they are needed (a source without one is skipped, a destination without one refuses)
_KEY_STAND_IN = "settings-check"

INCREMENTAL_LOOKBACK_ENV = "OUTREACH_INCREMENTAL_LOOKBACK_DAYS"
NAME_NORMALIZATION_ENV = "OUTREACH_NAME_NORMALIZATION_VERSION"
NAME_NORMALIZATION_VERSIONS = ("1", "2")

UNSET_HINT = "fix it, or unset it for the default"


class SettingsError(ValueError):
    """A setting cannot be read: the message names it, what is wrong and the fix."""


def _with_stand_in_keys(*key_names: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in key_names:
        env.setdefault(name, _KEY_STAND_IN)
    return env


def _base_urls(env: Mapping[str, str]) -> None:
    for name, value in sorted(env.items()):
        is_url_setting = name.endswith("__BASE_URL") and name.startswith(("SOURCES__", "DESTINATION__"))
        if is_url_setting and value.strip() and not value.strip().startswith(("http://", "https://")):
            raise SettingsError(f"{name} must be an http(s) URL, got {value!r}: {UNSET_HINT}")


def _sources(settings: Settings) -> None:
    env = _with_stand_in_keys(SMARTSCOUT_KEY_ENV, SMARTLEAD_POLL_KEY_ENV)
    SmartScoutConfig.from_env(env)
    poll = SmartleadPollConfig.from_env(env)
    not_ids = [campaign for campaign in poll.campaign_ids if not campaign.isdigit()]
    if not_ids:  # Smartlead campaign ids are numbers: anything else is a 404 per campaign, later
        raise SettingsError(
            f"SOURCES__SMARTLEAD__CAMPAIGN_IDS must be comma-separated campaign numbers, got {not_ids[0]!r}: "
            "fix it, or unset it to read all campaigns"
        )
    _base_urls(env)
    if settings.csv_exports_dir is not None and not settings.csv_exports_dir.is_dir():
        raise SettingsError(
            f"OUTREACH_CSV_EXPORTS_DIR={settings.csv_exports_dir} is not a folder: point it at the folder "
            "that holds your SmartScout CSV exports, or unset it"
        )
    spool = settings.webhook_spool_dir
    if spool.exists() and not spool.is_dir():
        raise SettingsError(
            f"OUTREACH_WEBHOOK_SPOOL_DIR={spool} is a file, not a folder: point it at the folder the webhook "
            "receiver writes to (the same for `outreach webhook-receiver` and `outreach ingest`)"
        )


def _progress(settings: Settings) -> None:
    non_negative_float(PROGRESS_SECONDS_ENV, os.environ.get(PROGRESS_SECONDS_ENV), 0.0)


def _enrich(settings: Settings) -> None:
    env = _with_stand_in_keys(APOLLO_KEY_ENV)
    ApolloConfig.from_env(env)
    _base_urls(env)
    settings.apollo_ttl_days  # noqa: B018  (the sample mode's TTL)


def _build(settings: Settings) -> None:
    lookback = os.environ.get(INCREMENTAL_LOOKBACK_ENV)
    non_negative_float(INCREMENTAL_LOOKBACK_ENV, lookback, 0.0)
    version = os.environ.get(NAME_NORMALIZATION_ENV, "").strip()
    if version and version not in NAME_NORMALIZATION_VERSIONS:
        raise SettingsError(f"{NAME_NORMALIZATION_ENV} must be 1 or 2, got {version!r}: {UNSET_HINT}")


def _sync(settings: Settings) -> None:
    env = _with_stand_in_keys(SMARTLEAD_LEADS_KEY_ENV, HUBSPOT_TOKEN_ENV)
    SmartleadLeadsConfig.from_env(env)
    HubSpotConfig.from_env(env)
    _base_urls(env)
    VolumeCaps.from_env()
    max_age_hours()
    settings.events_max_age_hours  # noqa: B018
    resend = os.environ.get(RESEND_UNCONFIRMED_ENV, "").strip()
    if resend not in ("", "0", "1"):  # sync reads only `1` as yes: `true` would silently be no
        raise SettingsError(f"{RESEND_UNCONFIRMED_ENV} must be 1 (send held leads again) or unset, got {resend!r}")


def _warehouse(settings: Settings) -> None:
    if settings.duckdb_path.is_dir():
        raise SettingsError(
            f"the warehouse file {settings.duckdb_path} (--duckdb or OUTREACH_DUCKDB_PATH) is a folder: "
            "give a file path, e.g. warehouse/outreach.duckdb"
        )
    settings.warehouse  # noqa: B018  (resolves DBT_TARGET and the profile: a bad target is named here)


def _run_lock(settings: Settings) -> None:
    try:
        max_age_from_env()
    except WarehouseError as error:
        raise SettingsError(f"{error}: {UNSET_HINT}") from None


def _secrets_file(settings: Settings) -> None:
    """A `.dlt/secrets.toml` that cannot be parsed is named before any work, not found to be
    "no key" source by source (the stand-in variable is never set: the file is always read)."""
    if Path(SECRETS_FILE).exists():
        resolve_secret("OUTREACH_SECRETS_FILE_CHECK", "sources.smartscout.api_key")


def _alerts(settings: Settings) -> None:
    AlertSettings.from_env()


def _receiver(settings: Settings) -> None:
    ReceiverLimits.from_env()


_CHECKS: dict[str, list[Callable[[Settings], None]]] = {
    "ingest": [_secrets_file, _sources, _progress, _run_lock, _alerts],
    "build": [_build, _run_lock, _alerts],
    "enrich": [_secrets_file, _enrich, _progress, _run_lock, _alerts],
    "sync": [_secrets_file, _sync, _run_lock, _alerts],
    "summary": [],
    "copy-ledger": [_run_lock, _alerts],
    "unlock": [],
    "webhook-receiver": [_secrets_file, _receiver],
}
_CHECKS["run-all"] = [check for command in ("ingest", "build", "enrich", "sync") for check in _CHECKS[command]]


def check_settings(settings: Settings, command: str) -> None:
    """Raises a one-line `ValueError` (the loaders' `ConfigError` or `SettingsError`) for the first
    setting `command` reads that cannot be read."""
    _warehouse(settings)
    for check in _CHECKS.get(command, []):
        try:
            check(settings)
        except ValueError as error:  # the loaders' messages say what is wrong: add the way out
            message = str(error)
            if "unset" in message or "point it" in message or "remove it" in message:
                raise
            raise SettingsError(f"{message}: {UNSET_HINT}") from None
