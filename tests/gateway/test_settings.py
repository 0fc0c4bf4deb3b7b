"""Settings: defaults with no configuration, and one clear line naming a bad variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.settings import DEMO_KB_DIR, Secret, SettingsError, load_settings

NO_TOML = Path("/nonexistent/onethread.toml")


def test_defaults_need_no_configuration() -> None:
    settings = load_settings({}, NO_TOML)
    assert settings.store_url.scheme == "sqlite"
    assert settings.store_url.path == "./var/onethread.sqlite3"
    assert settings.kb_dir == DEMO_KB_DIR
    assert settings.admin_token is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ONETHREAD_STORE_URL", "postgres://db/x"),
        ("ONETHREAD_PUBLIC_URL", "not a url"),
        ("ONETHREAD_KB_DIR", "/no/such/folder"),
        ("ONETHREAD_CONVERSATION_IDLE_SECONDS", "-5"),
        ("ONETHREAD_INBOX_PAUSED", "maybe"),
        ("WEBCHAT_IDENTITY_SECRET", "  "),
        ("ONETHREAD_KB_ANSWER_THRESHOLD", "1.5"),
        ("ONETHREAD_HANDOFF_AFTER_MISSES", "zero"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value}, NO_TOML)
    assert str(caught.value).startswith(f"{name}:")
    assert "\n" not in str(caught.value)


def test_a_half_configured_channel_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"^TELEGRAM_WEBHOOK_SECRET: required"):
        load_settings({"TELEGRAM_BOT_TOKEN": "123:abc"}, NO_TOML)


def test_environment_wins_over_the_toml_file(tmp_path: Path) -> None:
    toml = tmp_path / "onethread.toml"
    toml.write_text(
        'onethread_public_url = "https://from-file.example"\nonethread_admin_token = "file-token"\n'
    )
    settings = load_settings({"ONETHREAD_PUBLIC_URL": "https://from-env.example"}, toml)
    assert settings.public_url == "https://from-env.example"
    assert settings.admin_token is not None
    assert settings.admin_token.reveal() == "file-token"


def test_secrets_do_not_print() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in f"{secret}"


def test_serve_with_a_bad_setting_stops_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", "1"],
        env={"ONETHREAD_STORE_URL": "mysql://nope", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "ONETHREAD_STORE_URL" in lines[0]


def test_knowledge_thresholds_come_from_configuration() -> None:
    from gateway.knowledge_loader import thresholds_from
    from knowledge.policy import Thresholds

    assert thresholds_from(load_settings({}, NO_TOML)) == Thresholds()
    tuned = thresholds_from(
        load_settings(
            {"ONETHREAD_KB_ANSWER_THRESHOLD": "0.4", "ONETHREAD_HANDOFF_AFTER_MISSES": "3"},
            NO_TOML,
        )
    )
    assert (tuned.answer, tuned.handoff_after_misses) == (0.4, 3)
    assert tuned.max_out_of_scope == Thresholds().max_out_of_scope
