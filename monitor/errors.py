"""Errors: one base class, one subclass per situation a user can meet."""

from __future__ import annotations


class MonitorError(Exception):
    """Base class of every error news-monitor reports to a user."""


class ConfigError(MonitorError):
    """The configuration file is missing, unreadable or wrong."""


class FetchError(MonitorError):
    """An HTTP request failed; the message names the URL and the reason."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        """True when trying again later may succeed (timeouts, resets, 5xx, 429)."""
        return self.status is None or self.status >= 500 or self.status == 429


class BlockedURLError(FetchError):
    """A URL was refused before any byte was sent: bad scheme or a non-public address."""

    @property
    def retryable(self) -> bool:
        return False


class RefusedResponseError(FetchError):
    """A response refused for what it is (over the size cap, an encoding we do not decode, a redirect loop):
    another try in the same run would get the same answer, so none is made."""

    @property
    def retryable(self) -> bool:
        return False


class FeedError(MonitorError):
    """A feed's body is not a usable RSS/Atom document."""


class StoreError(MonitorError):
    """The DuckDB database cannot be opened or written."""


class QueryError(MonitorError):
    """A user's SQL or named query failed or is not allowed."""


class AlertError(MonitorError):
    """An alert could not be built or delivered."""
