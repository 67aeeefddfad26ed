"""API keys: in the keyring per preset, never in the settings file; memory-only without one."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backends import fail

from app.config.logging_setup import redact
from app.config.secrets import SecretStore
from app.config.settings import Settings, save_settings


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def test_keys_round_trip_through_the_keyring_per_preset() -> None:
    store = SecretStore()
    assert store.get("openai") is None
    assert store.set("openai", "  sk-test-1234567890  ") is None
    assert store.set("anthropic", "ant-key-abcdef") is None
    assert keyring.get_password("harken", "openai") == "sk-test-1234567890"
    fresh = SecretStore()  # a later run reads what the earlier one stored
    assert fresh.get("openai") == "sk-test-1234567890"
    assert fresh.get("anthropic") == "ant-key-abcdef"
    assert fresh.persistent


def test_empty_key_deletes() -> None:
    store = SecretStore()
    store.set("ollama", "local-key")
    store.set("ollama", "")
    assert keyring.get_password("harken", "ollama") is None
    store.delete("ollama")  # deleting twice is fine


def test_keys_never_reach_the_settings_file_or_logs() -> None:
    SecretStore().set("openai", "sk-secret-abcdefgh")
    path = save_settings(Settings())
    assert "sk-secret" not in path.read_text()
    assert "sk-secret" not in redact("calling with key sk-secret-abcdefgh now")


def test_no_keyring_keeps_the_key_for_the_session(no_keyring: None) -> None:
    store = SecretStore()
    message = store.set("openai", "sk-session-only-1")
    assert message is not None and "only until Harken quits" in message
    assert not store.persistent
    assert store.get("openai") == "sk-session-only-1"
    assert SecretStore().get("openai") is None  # nothing was persisted
    store.delete("openai")
    assert store.get("openai") is None
