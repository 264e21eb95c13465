"""Mail: the e-mail transport — a digest as an e-mail (safe headers, its text and HTML) and the SMTP session.

The digest's text and HTML come from `digest`. Everything shown comes from the web and is treated as hostile:
headers get one clean line with control characters removed and encoded-word openers broken, because Python's
email package decodes `=?utf-8?q?…=0D=0A…?=` in a header value it is given and would write the decoded line
break out as a new header. Each built message is parsed back and refused if its headers are not exactly the
ones set here.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr, make_msgid
from types import TracebackType

from monitor import config, digest
from monitor.digest import Chart, Digest, header_text, one_line
from monitor.errors import AlertError

FROM_NAME = "news-monitor"
_CID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class MessageRejected(AlertError):
    """The server refused this message for good (5xx on its recipient or content); retrying will not help."""


class MessageDeferred(AlertError):
    """The server refused this message for now (4xx); the next run tries again."""


class Unbuildable(AlertError):
    """A digest cannot be turned into a safe message; retrying will not help."""


# --- messages -------------------------------------------------------------------------------------------


def message_id(alert_id: str, sender: str) -> str:
    """The digest's Message-ID: derived from its outbox id, so every attempt to send it carries the same."""
    domain = re.sub(r"[^A-Za-z0-9.-]", "", sender.rpartition("@")[2]).strip(".") or "news-monitor.invalid"
    local = re.sub(r"[^A-Za-z0-9._-]", "", alert_id)
    return f"<{local}.alert@{domain}>"


def build(
    d: Digest, email: config.EmailConfig, charts: Sequence[Chart] = (), now: datetime | None = None
) -> EmailMessage:
    """The digest as a multipart/alternative message (text + HTML, with charts inline when given)."""
    for c in charts:
        if not _CID.match(c.cid):
            raise Unbuildable(
                f"chart content id {c.cid!r}: use letters, digits, '.', '_' or '-' (at most 64 characters)."
            )
    msg = _headers(email, d.recipient, d.subject, d.message_id, now)
    msg["X-News-Monitor-Alert"] = header_text(d.alert_id, 80)
    # quoted-printable keeps the parts readable in a raw message and in `monitor alerts preview --raw`
    msg.set_content(digest.render_text(d), cte="quoted-printable")
    msg.add_alternative(digest.render_html(d, charts), subtype="html", cte="quoted-printable")
    if charts:
        html_part = msg.get_payload()[1]  # type: ignore[index]
        assert isinstance(html_part, EmailMessage)
        for c in charts:
            # inline, not the default attachment a filename brings: clients would list every chart as a file
            html_part.add_related(
                c.png, "image", "png", cid=f"<{c.cid}>", filename=f"{c.cid}.png", disposition="inline"
            )
    _check_headers(msg)
    return msg


def check_message(email: config.EmailConfig, recipients: Sequence[str], where: str) -> EmailMessage:
    """A short message proving the [email] settings work."""
    msg = _headers(email, ", ".join(recipients), "news-monitor: test message", make_msgid(domain=_domain(email)), None)
    msg.set_content(
        f"This is a test message from news-monitor ({where}).\n\n"
        f"It was sent through {email.smtp_host}:{email.smtp_port} (security: {email.security}). "
        "If you can read it, digests of new figures will reach you too.\n"
    )
    _check_headers(msg)
    return msg


def _domain(email: config.EmailConfig) -> str:
    return message_id("x", email.sender).rpartition("@")[2].rstrip(">")


def _headers(email: config.EmailConfig, to: str, subject_text: str, msg_id: str, now: datetime | None) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = header_text(subject_text, digest.SUBJECT_MAX)
    msg["From"] = formataddr((FROM_NAME, email.sender))
    msg["To"] = to
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = msg_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    return msg


def _check_headers(msg: EmailMessage) -> None:
    """Refuse a message whose serialised headers are not exactly the ones we set (defence in depth)."""
    parsed = BytesParser(policy=policy.SMTP).parsebytes(msg.as_bytes(), headersonly=True)
    if [k.lower() for k in parsed] != [k.lower() for k in msg]:
        raise Unbuildable(
            f"refusing to send {msg['Message-ID']}: its headers changed when written out "
            f"({', '.join(parsed.keys())}); a title or quote tried to add a header."
        )


# --- SMTP -----------------------------------------------------------------------------------------------


class Transport:
    """One SMTP session for a batch of messages. Every step (connect, greeting, EHLO, STARTTLS, login, each
    command of each message) times out after [email] timeout seconds: a silent server costs that, not a run.

    Raises AlertError (naming host:port and what to check) when the session cannot be opened or breaks.
    """

    def __init__(self, email: config.EmailConfig, *, then: str = "then run `monitor alerts test`.") -> None:
        self.cfg = email
        self.where = f"{email.smtp_host}:{email.smtp_port}"
        self.then = then  # the next step the errors end with: `monitor alerts test` itself says "try again"
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        cfg = self.cfg
        if cfg.username and not cfg.password:
            raise AlertError(
                f"{self.where}: [email] username is {cfg.username!r} but "
                f"${config.ENV_SMTP_PASSWORD} is not set. Set it in the environment of "
                "`monitor run` (or remove username for a relay without login)."
            )
        # getfqdn() can block on reverse DNS for seconds; the bare host name is enough for EHLO
        local = socket.gethostname() or "localhost"
        try:
            if cfg.security == "tls":
                self.smtp = smtplib.SMTP_SSL(
                    cfg.smtp_host, cfg.smtp_port, local_hostname=local, timeout=cfg.timeout, context=self._tls()
                )
            else:
                self.smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, local_hostname=local, timeout=cfg.timeout)
            self.smtp.ehlo()
            if cfg.security == "starttls":
                if not self.smtp.has_extn("starttls"):
                    raise AlertError(
                        f"{self.where}: the server does not offer STARTTLS. Set [email] "
                        'security = "tls" for a TLS port (465), or "none" for a local relay.'
                    )
                self.smtp.starttls(context=self._tls())
                self.smtp.ehlo()
            if cfg.username and cfg.password:
                self.smtp.login(cfg.username, cfg.password)
        except AlertError:
            self.close()
            raise
        except (smtplib.SMTPException, OSError) as e:
            self.close()
            raise self._error(e) from None

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cfg.ca_file)

    def send(self, msg: EmailMessage, recipient: str) -> None:
        """Hand one message to the server for one recipient.

        Raises MessageRejected (5xx for this message), MessageDeferred (4xx for this message) or AlertError
        (the session broke: the remaining messages wait for the next run).
        """
        if self.smtp is None:
            raise AlertError(f"{self.where}: not connected.")
        try:
            self.smtp.send_message(msg, from_addr=self.cfg.sender, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as e:
            code, text = e.recipients.get(recipient, (0, b""))
            raise self._refusal(code, f"recipient {recipient} refused ({code} {_text(text)})") from None
        except smtplib.SMTPDataError as e:
            what = f"message refused ({e.smtp_code} {_text(e.smtp_error)})"
            raise self._refusal(e.smtp_code, what) from None
        except (smtplib.SMTPException, OSError) as e:
            raise self._error(e) from None

    def _refusal(self, code: int, what: str) -> AlertError:
        if code >= 500:
            return MessageRejected(f"{self.where}: {what}; not retried. Check the address in [email] recipients.")
        return MessageDeferred(f"{self.where}: {what}; the next run tries again.")

    def close(self) -> None:
        if self.smtp is None:
            return
        smtp, self.smtp = self.smtp, None
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _error(self, e: BaseException) -> AlertError:
        where, cfg = self.where, self.cfg
        check = self.then
        if isinstance(e, ConnectionRefusedError):
            return AlertError(
                f"{where}: connection refused (no SMTP server listening). Check smtp_host and "
                f"smtp_port in [email] and that the mail server is running; {check}"
            )
        # smtplib turns a timed-out read into SMTPServerDisconnected; the timeout is the news
        if isinstance(e, TimeoutError) or isinstance(e.__context__, TimeoutError):
            return AlertError(
                f"{where}: no answer within {cfg.timeout:g} s. Check smtp_host, smtp_port and "
                "security in [email] (a TLS port says nothing to plain SMTP), or raise "
                f"[email] timeout; {check}"
            )
        if isinstance(e, socket.gaierror):
            return AlertError(f"{where}: unknown host ({e.strerror}). Check smtp_host in [email]; {check}")
        if isinstance(e, ssl.SSLCertVerificationError):
            return AlertError(
                f"{where}: the server's TLS certificate is not trusted ({e.verify_message}). "
                "Set [email] ca_file to the CA that signed it, or fix the server's "
                f"certificate; {check}"
            )
        if isinstance(e, ssl.SSLError):
            return AlertError(
                f'{where}: TLS failed ({e.reason or e}). Check [email] security: "tls" for '
                f'implicit TLS (usually port 465), "starttls" for port 587; {check}'
            )
        if isinstance(e, smtplib.SMTPAuthenticationError):
            return AlertError(
                f"{where}: login as {cfg.username!r} refused ({e.smtp_code} "
                f"{_text(e.smtp_error)}). Check [email] username and "
                f"${config.ENV_SMTP_PASSWORD}; {check}"
            )
        if isinstance(e, smtplib.SMTPSenderRefused):
            return AlertError(
                f"{where}: sender {cfg.sender} refused ({e.smtp_code} {_text(e.smtp_error)}). "
                f"Check [email] sender (the server may only accept its own domain); {check}"
            )
        if isinstance(e, smtplib.SMTPNotSupportedError):
            return AlertError(f"{where}: {e}. Check [email] security and username; {check}")
        if isinstance(e, smtplib.SMTPServerDisconnected):
            return AlertError(f"{where}: the server closed the connection ({e or 'no reason given'}); {check}")
        if isinstance(e, smtplib.SMTPResponseException):
            return AlertError(f"{where}: the server answered {e.smtp_code} {_text(e.smtp_error)}; {check}")
        if isinstance(e, OSError):
            return AlertError(f"{where}: {e.strerror or e}; {check}")
        return AlertError(f"{where}: {e}; {check}")


def _text(value: bytes | str) -> str:
    raw = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return one_line(raw, 200)
