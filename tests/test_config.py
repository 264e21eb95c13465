"""Config: the documented shape loads; every mistake is one clear line naming key and file, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor import cli, config
from monitor.errors import ConfigError

ISSUE_SHAPE = """
database = "data/monitor.duckdb"
[schedule]
cron = "*/15 * * * *"
[fetch]
allow_networks = []
[[feeds]]
url = "https://example.org/world/rss.xml"
name = "Example World"
[[topics]]
name = "North Korean troops in Russia"
query = '("North Korea" OR "North Korean" OR DPRK OR Pyongyang) AND (Russia OR Kursk OR Ukraine)'
[email]
smtp_host = "localhost"
smtp_port = 1025
security = "none"
sender = "monitor@localhost"
recipients = ["analyst@example.org"]
username = "monitor"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(text)
    return path


def test_documented_shape_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, ISSUE_SHAPE), environ={"MONITOR_SMTP_PASSWORD": "s3cret"})
    assert cfg.database == tmp_path.resolve() / "data" / "monitor.duckdb"
    assert cfg.schedule.cron == "*/15 * * * *" and cfg.schedule.interval is None
    assert cfg.feeds == (config.FeedConfig("https://example.org/world/rss.xml", "Example World"),)
    assert cfg.topics[0].name == "North Korean troops in Russia"
    assert cfg.email is not None and cfg.email.smtp_port == 1025 and cfg.email.recipients == ("analyst@example.org",)
    assert cfg.email.password == "s3cret"  # only from the environment
    assert "s3cret" not in repr(cfg)


def test_a_run_parses_its_config_once_and_a_changed_file_again(tmp_path: Path) -> None:
    # the CLI, the flow runner and the flow each load the run's config: one parse, the same object
    path = write(tmp_path, ISSUE_SHAPE)
    env = {"MONITOR_SMTP_PASSWORD": "s3cret"}
    first = config.load(path, environ=env)
    assert config.load(str(path), environ=env) is first
    assert config.load(path, environ={"MONITOR_SMTP_PASSWORD": "other"}).email.password == "other"  # type: ignore[union-attr]
    path.write_text(ISSUE_SHAPE.replace("Example World", "Example World Desk"))
    assert config.load(path, environ=env).feeds[0].name == "Example World Desk"


def test_shipped_config_is_valid() -> None:
    cfg = config.load(Path(__file__).parents[1] / "monitor.toml", environ={})
    assert len(cfg.feeds) >= 10
    assert [t.name for t in cfg.topics] == ["North Korean troops in Russia"]
    assert all(f.url.startswith("https://") for f in cfg.feeds)


def test_path_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.resolve_path("a.toml", {"MONITOR_CONFIG": "b.toml"}) == Path("a.toml")
    assert config.resolve_path(None, {"MONITOR_CONFIG": "b.toml"}) == Path("b.toml")
    assert config.resolve_path(None, {}) == Path("monitor.toml")


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ('databse = "x.duckdb"', "databse", "Did you mean 'database'"),
        ('[fetch]\nallow_networks = ["localhost"]', "fetch.allow_networks[0]", "127.0.0.0/8"),
        ("[fetch]\ndeadline = -1", "fetch.deadline", "positive"),
        ("[fetch]\nfeed_max_bytes = true", "fetch.feed_max_bytes", "positive number"),
        ('[schedule]\ncron = "every day"', "schedule.cron", "cron"),
        ('[schedule]\ncron = "* * * * *"\ninterval = 60', "schedule", "not both"),
        ('[schedule]\ntimezone = "Mars/Olympus"', "schedule.timezone", "IANA"),
        ('[[feeds]]\nname = "no url"', "feeds[0].url", "missing"),
        ('[[feeds]]\nurl = "file:///etc/passwd"', "feeds[0].url", "http"),
        ('[[feeds]]\nurl = "https://a.org/rss"\n[[feeds]]\nurl = "https://a.org/rss"', "feeds[1].url", "twice"),
        ("[[topics]]\nname = \"t\"\nquery = '(Korea AND'", "topics[0].query", "position"),
        ('[[topics]]\nname = "t"\nquery = \'"North Korea\'', "topics[0].query", "unclosed quote"),
        ('[[topics]]\nname = "t"', "topics[0].query", "missing"),
        ('[email]\nsecurity = "ssl"', "email.security", "none, starttls, tls"),
        ('[email]\npassword = "hunter2"', "email.password", "MONITOR_SMTP_PASSWORD"),
        ('[email]\nrecipients = ["a@b.org\\r\\nBcc: x@y"]', "email.recipients[0]", "e-mail address"),
        ("[email]\nsmtp_port = 70000", "email.smtp_port", "1-65535"),
        ("feeds = 3", "feeds", "[[feeds]]"),
    ],
)
def test_mistakes_name_the_key_and_the_file(tmp_path: Path, text: str, key: str, hint: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        config.load(path, environ={})
    message = str(err.value)
    assert message.startswith(f"{path}: {key}"), message
    assert hint in message


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML"):
        config.load(write(tmp_path, "database = "), environ={})
    with pytest.raises(ConfigError, match=r"config file not found.*-c FILE"):
        config.load(tmp_path / "nope.toml", environ={})


def test_cli_reports_config_errors_in_one_line_with_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, '[fetch]\nallow_networks = "127.0.0.0/8"\n')
    result = CliRunner().invoke(cli.main, ["-c", str(path), "run"])
    assert result.exit_code == 2
    assert "fetch.allow_networks" in result.output and "Traceback" not in result.output
    missing = CliRunner().invoke(cli.main, ["-c", str(tmp_path / "absent.toml"), "run"])
    assert missing.exit_code == 2 and "config file not found" in missing.output


def test_unknown_topic_name_lists_the_known_ones(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, ISSUE_SHAPE), environ={})
    assert cfg.topic("north korean troops in russia").name == "North Korean troops in Russia"
    with pytest.raises(ConfigError, match=r"no topic named 'Gaza'.*North Korean troops in Russia"):
        cfg.topic("Gaza")


def test_a_topic_subject_must_name_a_force(tmp_path: Path) -> None:
    path = tmp_path / "monitor.toml"
    path.write_text('[[topics]]\nname = "NK"\nquery = "Korea"\nsubject = "DPRK troops"\n')
    assert config.load(path, environ={}).topics[0].subject == "DPRK troops"
    path.write_text('[[topics]]\nname = "NK"\nquery = "Korea"\nsubject = "the weather"\n')
    with pytest.raises(ConfigError, match=r"topics\[0\]\.subject: 'the weather' names no force"):
        config.load(path, environ={})
