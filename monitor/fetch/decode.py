"""Fetch, the body: streamed, decompressed by us (gzip and deflate only) a bounded step at a time, capped.

A general client would decompress without limit and ask for Brotli and zstd; we ask only for what we decode here,
so a gzip bomb stops one byte past the cap instead of filling memory.
"""

from __future__ import annotations

import zlib

from monitor.errors import FetchError, RefusedResponseError
from monitor.fetch import guard, wire

ACCEPT_ENCODING = "gzip, deflate"  # only what we decode ourselves, under the cap
MAX_ENCODINGS = 2  # "gzip, gzip" is seen in the wild; deeper stacks are only ever an attack


def read_body(url: str, hop: str, response: wire.Exchange, max_bytes: int) -> bytes:
    """Stream the raw body, decompress it ourselves and stop one byte past ``max_bytes``."""
    where = "" if hop == url else f" (redirected to {hop})"
    too_large = f"body larger than {max_bytes} bytes{where}; not stored. Raise the limit if this source needs it"
    declared = response.headers.get("content-length", "")
    # max_bytes caps the bytes on the wire as well as after decompression, so a Content-Length
    # over the cap fails before a byte of the body is read.
    if declared.strip().isdigit() and int(declared) > max_bytes:
        raise RefusedResponseError(url, f"{too_large} (Content-Length: {declared.strip()})")
    names = encodings(url, response.headers.get("content-encoding", ""), where)
    decoder = Decoder(url, names, max_bytes, where)
    parts = []  # joined once at the end: one copy of the body, not one per piece
    size = on_wire = 0
    for chunk in response.iter_raw():
        on_wire += len(chunk)
        if on_wire > max_bytes:
            raise RefusedResponseError(url, too_large)
        part = decoder.feed(chunk)
        size += len(part)
        if size > max_bytes:
            raise RefusedResponseError(url, too_large)
        parts.append(part)
        if guard.remaining() <= 0:
            raise guard.ReadTimeout("deadline passed while reading the body")
    if on_wire:
        decoder.check_complete()
    return b"".join(parts)


def encodings(url: str, header: str, where: str) -> list[str]:
    """The Content-Encodings to undo, in the order they were applied."""
    names = [name.strip().lower() for name in header.split(",")]
    names = ["gzip" if name == "x-gzip" else name for name in names if name not in ("", "identity")]
    unknown = [name for name in names if name not in ("gzip", "deflate")]
    if unknown:
        raise RefusedResponseError(
            url, f"unsupported Content-Encoding {header!r}{where}; we asked for {ACCEPT_ENCODING}"
        )
    if len(names) > MAX_ENCODINGS:
        raise RefusedResponseError(
            url, f"unsupported Content-Encoding {header!r}{where}: more than {MAX_ENCODINGS} stacked"
        )
    return names


class _Stage:
    """One gzip or deflate layer, decompressed with a bounded output per step (bomb-safe)."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        # gzip: 32+ lets zlib also accept a zlib header, which some servers send as "gzip".
        # deflate: decided on the first two bytes (see push).
        self._zlib = zlib.decompressobj(32 + zlib.MAX_WBITS) if encoding == "gzip" else None
        self._tail = b""  # input not consumed yet because the output limit was reached
        self._full = False  # the last step filled its output limit, so more output may be waiting

    @property
    def pending(self) -> bool:
        return self._zlib is not None and not self._zlib.eof and (bool(self._tail) or self._full)

    @property
    def complete(self) -> bool:
        return self._zlib is not None and self._zlib.eof

    def push(self, data: bytes, max_out: int) -> bytes:
        buf = self._tail + data if self._tail else data
        if self._zlib is None:
            if len(buf) < 2:
                self._tail = buf
                return b""
            # HTTP "deflate" means a zlib stream (RFC 1950), but many servers send raw deflate
            # (RFC 1951); tell them apart by the zlib header check, as zlib itself does.
            cmf, flg = buf[0], buf[1]
            is_zlib = cmf & 0x0F == 8 and (cmf * 256 + flg) % 31 == 0
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS)
        if self._zlib.eof:  # bytes after the end of the stream are ignored
            self._tail, self._full = b"", False
            return b""
        out = self._zlib.decompress(buf, max_out)
        self._tail = self._zlib.unconsumed_tail
        self._full = len(out) == max_out
        return out


class Decoder:
    """Undoes Content-Encoding chunk by chunk, never producing more than ``max_bytes + 1`` bytes."""

    def __init__(self, url: str, encodings: list[str], max_bytes: int, where: str) -> None:
        self._url = url
        self._where = where
        self._stages = [_Stage(name) for name in reversed(encodings)]
        self._room = max_bytes + 1  # one byte past the cap proves the body is too large

    def feed(self, raw: bytes) -> bytes:
        if not self._stages:
            return raw
        if any(stage.complete for stage in self._stages[1:]):
            return b""  # an inner layer has ended: nothing more can come out, so don't grind the outer
        out = bytearray()
        data = raw
        try:
            # Loop until no layer holds back input or output, or the cap is passed.
            while True:
                for stage in self._stages:
                    data = stage.push(data, max(self._room - len(out), 1))
                out += data
                data = b""
                if len(out) >= self._room or not any(stage.pending for stage in self._stages):
                    break
                if any(stage.complete for stage in self._stages[1:]):
                    break
        except zlib.error as exc:
            names = ", ".join(stage.encoding for stage in reversed(self._stages))
            raise RefusedResponseError(
                self._url,
                f"could not decompress the {names} body{self._where} ({exc}); the server sent bad data",
            ) from None
        self._room -= len(out)
        return bytes(out)

    def check_complete(self) -> None:
        # The innermost layer's end is the content's end; an outer layer cut after it loses nothing.
        innermost = self._stages[-1] if self._stages else None
        if innermost is not None and not innermost.complete:
            raise FetchError(
                self._url,
                f"{innermost.encoding} body{self._where} ended early: the compressed data is truncated",
            )
