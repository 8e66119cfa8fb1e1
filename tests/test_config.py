"""Settings: a missing or bad one stops start-up by name, and no value is ever printed."""

import subprocess
import sys

import pytest

from bot.config import SettingsError, load_settings

REQUIRED = {
    "SLACK_BOT_TOKEN": "xoxb-secret-bot-token",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "WHATCONVERTS_API_TOKEN": "wc-token-value",
    "WHATCONVERTS_API_SECRET": "wc-secret-value",
}


@pytest.fixture
def environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in REQUIRED:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_apply_when_only_the_secrets_are_set(environment):
    for name, value in REQUIRED.items():
        environment.setenv(name, value)

    settings = load_settings()

    assert settings.whatconverts_api_url == "https://app.whatconverts.com/api/v1"
    assert settings.port == 3000 and settings.upstream_concurrency == 10
    assert settings.slack_api_url is None


def test_settings_are_read_from_a_dotenv_file(environment, tmp_path):
    (tmp_path / ".env").write_text("\n".join(f"{k}={v}" for k, v in REQUIRED.items()))

    settings = load_settings()

    assert settings.slack_signing_secret.get_secret_value() == "signing-secret-value"


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_setting_is_named(environment, missing):
    for name, value in REQUIRED.items():
        if name != missing:
            environment.setenv(name, value)

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert f"{missing} is required" in str(error.value)


def test_a_bad_setting_is_named_without_echoing_any_value(environment):
    for name, value in REQUIRED.items():
        environment.setenv(name, value)
    environment.setenv("UPSTREAM_CONCURRENCY", "50")
    environment.setenv("PORT", "not-a-port-xyz")

    with pytest.raises(SettingsError) as error:
        load_settings()

    message = str(error.value)
    assert "UPSTREAM_CONCURRENCY" in message and "PORT" in message
    assert "not-a-port-xyz" not in message
    assert not any(value in message for value in REQUIRED.values())


def test_malformed_channel_accounts_json_is_named_without_echoing_it(environment):
    for name, value in REQUIRED.items():
        environment.setenv(name, value)
    environment.setenv("CHANNEL_ACCOUNTS", '{"C0SEKRIT": [1001')

    with pytest.raises(SettingsError) as error:
        load_settings()

    assert str(error.value) == "Settings problem: CHANNEL_ACCOUNTS must be valid JSON"
    assert error.value.__cause__ is None and error.value.__suppress_context__


def test_channel_accounts_of_the_wrong_shape_name_the_setting_and_not_the_channel(environment):
    for name, value in REQUIRED.items():
        environment.setenv(name, value)
    environment.setenv("CHANNEL_ACCOUNTS", '{"C0SEKRIT": ["x", "y"]}')

    with pytest.raises(SettingsError) as error:
        load_settings()

    message = str(error.value)
    assert message.startswith("Settings problem: CHANNEL_ACCOUNTS ")
    assert "C0SEKRIT" not in message and message.count("CHANNEL_ACCOUNTS") == 1


def test_the_log_level_is_read_in_any_case(environment):
    for name, value in REQUIRED.items():
        environment.setenv(name, value)
    environment.setenv("LOG_LEVEL", "warning")

    assert load_settings().log_level == "WARNING"


def test_an_unknown_log_level_is_a_named_settings_problem(environment):
    for name, value in REQUIRED.items():
        environment.setenv(name, value)
    environment.setenv("LOG_LEVEL", "chatty-xyz")

    with pytest.raises(SettingsError) as error:
        load_settings()

    message = str(error.value)
    assert message.startswith("Settings problem: LOG_LEVEL ") and "'ERROR'" in message
    assert "chatty-xyz" not in message.lower()


def test_the_advice_says_it_for_one_problem_and_them_for_several():
    one = SettingsError(["PORT is required"])
    several = SettingsError(["PORT is required", "WORKERS is required"])

    assert one.advice() == ("Settings problem: PORT is required. "
                            "Set it in the environment or in a .env file.")
    assert several.advice().endswith(". Set them in the environment or in a .env file.")


def test_the_server_refuses_to_start_without_settings_and_names_them(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SLACK_BOT_TOKEN": "xoxb-visible-nowhere"}

    result = subprocess.run(
        [sys.executable, "-c", "from bot.app import create_wsgi_app; create_wsgi_app()"],
        cwd=tmp_path, env=env | {"PYTHONPATH": str(_root())}, capture_output=True, text=True,
        timeout=30,
    )

    assert result.returncode == 4
    assert "SLACK_SIGNING_SECRET is required" in result.stderr
    assert "WHATCONVERTS_API_TOKEN is required" in result.stderr
    assert "Set them in the environment or in a .env file." in result.stderr
    assert "xoxb-visible-nowhere" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_the_http_server_refuses_an_app_token_without_a_signing_secret(tmp_path):
    """Socket Mode settings under gunicorn: Bolt would answer every request with 500."""
    env = {"PATH": "/usr/bin:/bin", "SLACK_BOT_TOKEN": "xoxb-visible-nowhere",
           "SLACK_APP_TOKEN": "xapp-visible-nowhere", "WHATCONVERTS_API_TOKEN": "wc-token-value",
           "WHATCONVERTS_API_SECRET": "wc-secret-value"}

    result = subprocess.run(
        [sys.executable, "-c", "from bot.app import create_wsgi_app; create_wsgi_app()"],
        cwd=tmp_path, env=env | {"PYTHONPATH": str(_root())}, capture_output=True, text=True,
        timeout=30,
    )

    assert result.returncode == 4
    assert "SLACK_SIGNING_SECRET is required to serve HTTP" in result.stderr
    assert "`python -m bot`" in result.stderr
    assert "Set it in the environment or in a .env file." in result.stderr
    assert "ready:" not in result.stderr and "Traceback" not in result.stderr
    assert not any(value in result.stderr + result.stdout for value in env.values()
                   if value.startswith(("xoxb", "xapp", "wc-")))


def _root():
    from pathlib import Path
    return Path(__file__).resolve().parent.parent
