"""Configuration: read once from the environment and an optional onethread.toml, typed and strict.

This is the only module that reads environment variables. A bad value raises SettingsError whose
message is one line naming the variable, and `onethread serve` prints it and exits.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from handoff.config import HandoffConfig, HandoffConfigError, load_config

DEMO_KB_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "demo"


class SettingsError(ValueError):
    """A setting is missing, malformed or inconsistent; the message names the variable."""


class Secret(str):
    """A string that hides itself when printed or logged."""

    def __repr__(self) -> str:
        return "Secret('**********')"

    def reveal(self) -> str:
        """The secret value itself."""
        return str.__str__(self)

    def __str__(self) -> str:
        return "**********"


@dataclass(frozen=True)
class StoreURL:
    """Where the store lives: `sqlite` with a file path, or `redis` with a URL."""

    scheme: str
    path: str
    raw: str


@dataclass(frozen=True)
class TwilioSettings:
    """SMS, and WhatsApp through Twilio."""

    account_sid: str
    auth_token: Secret
    from_number: str  # an E.164 number, or a Messaging Service SID (MG…)
    api_base_url: str = "https://api.twilio.com"

    @property
    def messaging_service(self) -> bool:
        """True when replies go through a Messaging Service instead of one number."""
        return self.from_number.startswith("MG")


@dataclass(frozen=True)
class TelegramSettings:
    """A Telegram bot."""

    bot_token: Secret
    webhook_secret: Secret
    api_base_url: str = "https://api.telegram.org"


@dataclass(frozen=True)
class MetaSettings:
    """Messenger and Instagram (a Page access token); WhatsApp Cloud (token + phone number id)."""

    app_secret: Secret
    verify_token: Secret
    page_access_token: Secret | None = None
    whatsapp_access_token: Secret | None = None
    whatsapp_phone_number_id: str | None = None
    graph_base_url: str = "https://graph.facebook.com/v21.0"

    @property
    def page(self) -> bool:
        """True when Messenger and Instagram replies can be sent."""
        return self.page_access_token is not None

    @property
    def whatsapp(self) -> bool:
        """True when WhatsApp Cloud replies can be sent."""
        return self.whatsapp_access_token is not None and self.whatsapp_phone_number_id is not None


@dataclass(frozen=True)
class SlackSettings:
    """Agents' Slack workspace: the bot, how its requests are verified, the default queue."""

    bot_token: Secret
    signing_secret: Secret
    handoff_channel: str
    api_base_url: str = "https://slack.com/api/"
    app_token: Secret | None = None  # Socket Mode instead of the events endpoint


@dataclass(frozen=True)
class Settings:
    """Every setting of the gateway, with its default."""

    store_url: StoreURL = field(
        default_factory=lambda: parse_store_url("sqlite:///./var/onethread.sqlite3")
    )
    public_url: str = "http://127.0.0.1:8080"
    kb_dir: Path = DEMO_KB_DIR
    admin_token: Secret | None = None
    webchat_identity_secret: Secret | None = None
    conversation_idle_seconds: float = 24 * 3600
    # A customer back within this long after a conversation ended means the bot did not deflect it.
    deflection_window_seconds: float = 24 * 3600
    delivery_max_attempts: int = 8
    max_body_bytes: int = 1024 * 1024
    crash_at: str | None = None
    knowledge_poll_seconds: float = 2.0
    # Shared stores: work a process took and left unfinished this long is taken over by others.
    reclaim_idle_seconds: float = 30.0
    # Decision thresholds of the knowledge base; None keeps the engine's tuned default.
    kb_answer_threshold: float | None = None
    kb_clarify_margin: float | None = None
    kb_max_out_of_scope: float | None = None
    kb_min_similarity: float | None = None
    handoff_after_misses: int | None = None
    twilio: TwilioSettings | None = None
    telegram: TelegramSettings | None = None
    meta: MetaSettings | None = None
    slack: SlackSettings | None = None
    inbox_paused: bool = False
    # Handoff: queues, routing rules, business hours, redaction (a YAML file; see the README).
    handoff_config: HandoffConfig = field(default_factory=HandoffConfig)
    handoff_remind_seconds: float = 300.0
    # Self-service flows: the shop's backend (unset: the in-process demo) and a Rasa action
    # server's webhook (unset: the actions run in-process).
    commerce_url: str | None = None
    action_endpoint: str | None = None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

CRASH_POINTS = frozenset(
    {"after_accept", "after_customer_entry", "after_reply", "before_outbox_done"}
)


def parse_store_url(raw: str, name: str = "ONETHREAD_STORE_URL") -> StoreURL:
    """Parse `sqlite:///rel/path`, `sqlite:////abs/path` or `redis://host:port/db`."""
    if raw.startswith("sqlite:///"):
        path = raw[len("sqlite:///") :]
        if not path:
            raise SettingsError(f"{name}: sqlite URL has no file path: {raw!r}")
        return StoreURL("sqlite", path, raw)
    if raw.startswith(("redis://", "rediss://")):
        if not urlsplit(raw).hostname:
            raise SettingsError(f"{name}: redis URL has no host: {raw!r}")
        return StoreURL("redis", raw, raw)
    raise SettingsError(f"{name}: expected sqlite:///PATH or redis://HOST:PORT/DB, got {raw!r}")


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")


def _positive_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number of seconds, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name}: must be greater than 0, got {raw!r}")
    return value


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name}: must be greater than 0, got {raw!r}")
    return value


def _fraction(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number between 0 and 1, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name}: must be between 0 and 1, got {raw!r}")
    return value


def _url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"{name}: expected an http(s) URL, got {raw!r}")
    return raw.rstrip("/")


def _existing_dir(name: str, raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise SettingsError(f"{name}: not a directory: {raw!r}")
    return path


def _handoff_config(name: str, raw: str) -> HandoffConfig:
    path = Path(raw).expanduser()
    if not path.is_file():
        raise SettingsError(f"{name}: no such file: {raw!r}")
    try:
        return load_config(path)
    except HandoffConfigError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def _secret(name: str, raw: str) -> Secret:
    if not raw.strip():
        raise SettingsError(f"{name}: is set but empty")
    return Secret(raw)


def _crash_point(name: str, raw: str) -> str:
    if raw not in CRASH_POINTS:
        raise SettingsError(f"{name}: expected one of {sorted(CRASH_POINTS)}, got {raw!r}")
    return raw


_PARSERS = {
    "ONETHREAD_STORE_URL": ("store_url", lambda name, raw: parse_store_url(raw, name)),
    "ONETHREAD_PUBLIC_URL": ("public_url", _url),
    "ONETHREAD_KB_DIR": ("kb_dir", _existing_dir),
    "ONETHREAD_ADMIN_TOKEN": ("admin_token", _secret),
    "WEBCHAT_IDENTITY_SECRET": ("webchat_identity_secret", _secret),
    "ONETHREAD_CONVERSATION_IDLE_SECONDS": ("conversation_idle_seconds", _positive_float),
    "ONETHREAD_DEFLECTION_WINDOW_SECONDS": ("deflection_window_seconds", _positive_float),
    "ONETHREAD_DELIVERY_MAX_ATTEMPTS": ("delivery_max_attempts", _positive_int),
    "ONETHREAD_MAX_BODY_BYTES": ("max_body_bytes", _positive_int),
    "ONETHREAD_CRASH_AT": ("crash_at", _crash_point),
    "ONETHREAD_KNOWLEDGE_POLL_SECONDS": ("knowledge_poll_seconds", _positive_float),
    "ONETHREAD_RECLAIM_IDLE_SECONDS": ("reclaim_idle_seconds", _positive_float),
    "ONETHREAD_KB_ANSWER_THRESHOLD": ("kb_answer_threshold", lambda n, r: _fraction(n, r)),
    "ONETHREAD_KB_CLARIFY_MARGIN": ("kb_clarify_margin", lambda n, r: _fraction(n, r)),
    "ONETHREAD_KB_MAX_OUT_OF_SCOPE": ("kb_max_out_of_scope", lambda n, r: _fraction(n, r)),
    "ONETHREAD_KB_MIN_SIMILARITY": ("kb_min_similarity", lambda n, r: _fraction(n, r)),
    "ONETHREAD_HANDOFF_AFTER_MISSES": ("handoff_after_misses", _positive_int),
    "ONETHREAD_INBOX_PAUSED": ("inbox_paused", _bool),
    "ONETHREAD_HANDOFF_CONFIG": ("handoff_config", lambda n, r: _handoff_config(n, r)),
    "ONETHREAD_HANDOFF_REMIND_SECONDS": ("handoff_remind_seconds", _positive_float),
    "ONETHREAD_COMMERCE_URL": ("commerce_url", _url),
    "ONETHREAD_ACTION_ENDPOINT": ("action_endpoint", _url),
}

# Credentials that only work together: a half-configured channel is refused at start-up instead of
# silently ignored (or, worse, left as an unauthenticated endpoint).
CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "twilio": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"),
    "telegram": ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"),
    "slack": ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_HANDOFF_CHANNEL"),
}


_TWILIO_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_MESSAGING_SERVICE = re.compile(r"^MG[0-9a-fA-F]{32}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _twilio(values: Mapping[str, str]) -> TwilioSettings | None:
    if not values.get("TWILIO_ACCOUNT_SID"):
        return None
    sid, sender = values["TWILIO_ACCOUNT_SID"], values["TWILIO_FROM_NUMBER"]
    if not _TWILIO_SID.match(sid):
        raise SettingsError("TWILIO_ACCOUNT_SID: expected AC followed by 32 hex digits")
    if not (_E164.match(sender) or _MESSAGING_SERVICE.match(sender)):
        raise SettingsError(
            "TWILIO_FROM_NUMBER: expected an E.164 number (+15550001234) or a Messaging Service SID"
        )
    base = _url(
        "TWILIO_API_BASE_URL", values.get("TWILIO_API_BASE_URL") or "https://api.twilio.com"
    )
    return TwilioSettings(
        sid, _secret("TWILIO_AUTH_TOKEN", values["TWILIO_AUTH_TOKEN"]), sender, base
    )


_TELEGRAM_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _telegram(values: Mapping[str, str]) -> TelegramSettings | None:
    if not values.get("TELEGRAM_BOT_TOKEN"):
        return None
    if not _TELEGRAM_TOKEN.match(values["TELEGRAM_BOT_TOKEN"]):
        raise SettingsError("TELEGRAM_BOT_TOKEN: expected the token BotFather gave, 123456:ABC…")
    if not _TELEGRAM_SECRET.match(values["TELEGRAM_WEBHOOK_SECRET"]):
        raise SettingsError(
            "TELEGRAM_WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
        )
    base = values.get("TELEGRAM_API_BASE_URL") or "https://api.telegram.org"
    return TelegramSettings(
        Secret(values["TELEGRAM_BOT_TOKEN"]),
        Secret(values["TELEGRAM_WEBHOOK_SECRET"]),
        _url("TELEGRAM_API_BASE_URL", base),
    )


META_KEYS = (
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "META_PAGE_ACCESS_TOKEN",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
)
_PHONE_NUMBER_ID = re.compile(r"^\d{5,20}$")


def _meta(values: Mapping[str, str]) -> MetaSettings | None:
    """On when META_APP_SECRET is set; then the verify token and at least one channel's credentials.

    The WhatsApp pair is all or nothing; a stray channel credential without the app secret is
    refused, since its webhooks could not be verified.
    """
    if not values.get("META_APP_SECRET"):
        stray = next((n for n in META_KEYS[1:] if values.get(n)), None)
        if stray:
            raise SettingsError(f"META_APP_SECRET: required because {stray} is set")
        return None
    if not values.get("META_VERIFY_TOKEN"):
        raise SettingsError("META_VERIFY_TOKEN: required because META_APP_SECRET is set")
    wa_token = values.get("WHATSAPP_ACCESS_TOKEN")
    wa_number = values.get("WHATSAPP_PHONE_NUMBER_ID")
    if wa_token and not wa_number:
        raise SettingsError(
            "WHATSAPP_PHONE_NUMBER_ID: required because WHATSAPP_ACCESS_TOKEN is set"
        )
    if wa_number and not wa_token:
        raise SettingsError(
            "WHATSAPP_ACCESS_TOKEN: required because WHATSAPP_PHONE_NUMBER_ID is set"
        )
    if wa_number and not _PHONE_NUMBER_ID.match(wa_number):
        raise SettingsError(
            "WHATSAPP_PHONE_NUMBER_ID: expected the numeric phone number id from the WhatsApp "
            "Manager, not the phone number"
        )
    page = values.get("META_PAGE_ACCESS_TOKEN")
    if not page and not wa_token:
        raise SettingsError(
            "META_PAGE_ACCESS_TOKEN: required (or WHATSAPP_ACCESS_TOKEN and "
            "WHATSAPP_PHONE_NUMBER_ID) because META_APP_SECRET is set"
        )
    base = _url(
        "META_GRAPH_BASE_URL",
        values.get("META_GRAPH_BASE_URL") or "https://graph.facebook.com/v21.0",
    )
    return MetaSettings(
        app_secret=_secret("META_APP_SECRET", values["META_APP_SECRET"]),
        verify_token=_secret("META_VERIFY_TOKEN", values["META_VERIFY_TOKEN"]),
        page_access_token=_secret("META_PAGE_ACCESS_TOKEN", page) if page else None,
        whatsapp_access_token=_secret("WHATSAPP_ACCESS_TOKEN", wa_token) if wa_token else None,
        whatsapp_phone_number_id=wa_number or None,
        graph_base_url=base,
    )


_SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")


def _slack(values: Mapping[str, str]) -> SlackSettings | None:
    if not values.get("SLACK_BOT_TOKEN"):
        if values.get("SLACK_APP_TOKEN"):
            raise SettingsError("SLACK_BOT_TOKEN: required because SLACK_APP_TOKEN is set")
        return None
    if not values["SLACK_BOT_TOKEN"].startswith("xoxb-"):
        raise SettingsError("SLACK_BOT_TOKEN: expected a bot token (xoxb-…)")
    channel = values["SLACK_HANDOFF_CHANNEL"]
    if not _SLACK_CHANNEL.match(channel):
        raise SettingsError(
            "SLACK_HANDOFF_CHANNEL: expected a channel id such as C0123456789 (in Slack: channel "
            "details, at the bottom), not a #name"
        )
    app_token = values.get("SLACK_APP_TOKEN")
    if app_token and not app_token.startswith("xapp-"):
        raise SettingsError("SLACK_APP_TOKEN: expected an app-level token (xapp-…)")
    base = _url("SLACK_API_BASE_URL", values.get("SLACK_API_BASE_URL") or "https://slack.com/api/")
    return SlackSettings(
        bot_token=Secret(values["SLACK_BOT_TOKEN"]),
        signing_secret=_secret("SLACK_SIGNING_SECRET", values["SLACK_SIGNING_SECRET"]),
        handoff_channel=channel,
        # slack_sdk joins method names onto the root: it must end with a slash.
        api_base_url=base + "/",
        app_token=Secret(app_token) if app_token else None,
    )


def _read_toml(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read configuration file: {exc}") from None
    flat: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            raise SettingsError(f"{path}: {key}: sections are not supported, use flat keys")
        flat[key.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return flat


def _check_channel_groups(values: Mapping[str, str]) -> None:
    for channel, names in CHANNEL_GROUPS.items():
        present = [n for n in names if values.get(n)]
        if present and len(present) != len(names):
            missing = next(n for n in names if not values.get(n))
            raise SettingsError(
                f"{missing}: required because {present[0]} is set ({channel} is half-configured)"
            )


def load_settings(
    environ: Mapping[str, str] | None = None, toml_path: Path | None = None
) -> Settings:
    """Read settings from onethread.toml (if present) overlaid by the environment."""
    env = dict(os.environ if environ is None else environ)
    path = toml_path or Path(env.get("ONETHREAD_CONFIG", "onethread.toml"))
    values = _read_toml(path) if path.is_file() else {}
    values.update({k: v for k, v in env.items() if k in _PARSERS or _is_channel_key(k)})
    _check_channel_groups(values)
    kwargs = {}
    for name, (attr, parse) in _PARSERS.items():
        if name in values and values[name] != "":
            kwargs[attr] = parse(name, values[name])
    return Settings(
        **kwargs,
        twilio=_twilio(values),
        telegram=_telegram(values),
        meta=_meta(values),
        slack=_slack(values),
    )


_BASE_URLS = {
    "TWILIO_API_BASE_URL",
    "TELEGRAM_API_BASE_URL",
    "META_GRAPH_BASE_URL",
    "SLACK_API_BASE_URL",
}


def _is_channel_key(name: str) -> bool:
    return (
        name in _BASE_URLS
        or name in META_KEYS
        or name == "SLACK_APP_TOKEN"
        or any(name in names for names in CHANNEL_GROUPS.values())
    )
