"""Redaction of credential-looking strings in text that leaves the cluster (logs, probe bodies).

Applied before a string is stored in a snapshot or printed. It is deliberately greedy: a log
line that loses a harmless value is cheap, a leaked token is not.
"""

from __future__ import annotations

import re

MASK = "<redacted>"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys (RSA, EC, OPENSSH, PKCS#8, encrypted): the whole block.
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S),
     MASK),
    # Authorization headers: "Bearer xyz", "Basic xyz".
    (re.compile(r"(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1\2{MASK}"),
    # user:password@host in URLs (postgres://u:p@h, https://u:p@h).
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@"), rf"\1{MASK}@"),
    # JWTs (three base64url parts, header starts with eyJ) and OCI security tokens.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
    # OCI auth tokens and signing material in config-like text, and ST$<token> key ids.
    (re.compile(r"ST\$[A-Za-z0-9._-]{16,}"), MASK),
    # key=value and key: value pairs whose key names a credential.
    (re.compile(
        r"(?i)((?:[a-z0-9_.-]*?)(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
        r"private[_-]?key|client[_-]?secret|credentials?)[a-z0-9_.-]*\"?\s*[=:]\s*\"?)([^\s\"',;&}]+)"),
     rf"\1{MASK}"),
    # Cloud access key ids that travel without a key= prefix.
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), MASK),
)


def redact(text: str | None) -> str | None:
    """`text` with every credential-looking substring replaced by <redacted>."""
    if not text:
        return text
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text
