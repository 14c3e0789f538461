"""The RFC 6455 framing the Kubernetes exec channel protocols (v4/v5.channel.k8s.io) ride on."""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import BinaryIO

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode(), usedforsecurity=False).digest()).decode()


def write_frame(out: BinaryIO, opcode: int, payload: bytes) -> None:
    """A final, unmasked frame (servers never mask)."""
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([n])
    elif n < 1 << 16:
        head += bytes([126]) + struct.pack("!H", n)
    else:
        head += bytes([127]) + struct.pack("!Q", n)
    out.write(head + payload)
    out.flush()


def read_frame(inp: BinaryIO) -> tuple[int, bytes] | None:
    """One frame from the client (masked); None at end of stream."""
    head = inp.read(2)
    if len(head) < 2:
        return None
    opcode, n = head[0] & 0x0F, head[1] & 0x7F
    masked = head[1] & 0x80
    if n == 126:
        n = struct.unpack("!H", inp.read(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", inp.read(8))[0]
    mask = inp.read(4) if masked else b""
    data = inp.read(n)
    if masked:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return opcode, data


def close_payload(code: int = 1000, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()
