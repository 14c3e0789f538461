"""The one redactor for text that leaves the cluster: log lines, probe bodies, literal env values.

It runs when a snapshot is collected and again when a check quotes a line, so it must be stable
(`redact(redact(x)) == redact(x)`). It is deliberately greedy: a log line that loses a harmless
value is cheap, a leaked token is not. Two exceptions keep the diagnosis working: a `host:port`
whose host name contains a credential word (auth-service:8080) is not a key and its port, and a
prose word after "password:" (is, not, required...) is not a password.

Every pattern is anchored on a literal or at the start of a run of key characters, and the runs
are matched possessively, so a multi-megabyte log without spaces is redacted in linear time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import overload

MASK = "<redacted>"

# Words that make a key (KEY=value, "key": value, header name) a credential.
_WORDS = (r"password|passwd|passphrase|pass(?![a-z])|pwd|secret|token|credentials?|auth|cookie|session|dsn|signature"
          r"|api[_-]?key|apikey|(?:access|private|signing|encryption|master|account|ssh)[_-]?key"
          r"|conn(?:ection)?[_-]?str(?:ing)?")
_SCHEMES = r"bearer|basic|token|digest|negotiate|ntlm"
# A value already masked, or an auth scheme in front of one, is not masked again.
_NOT_MASKED = r"(?!<redacted>)(?!(?:" + _SCHEMES + r")[ \t]+<redacted>)"

# Prose that follows "password:" or "password " in ordinary messages; never a credential.
_PROSE = frozenset({"is", "was", "not", "must", "missing", "required", "empty", "unset", "undefined", "invalid",
                    "incorrect", "expired", "failed", "none", "null", "for", "of", "and", "or", "to", "the", "a",
                    "in", "on", "from", "with",
                    # client-go's "failed to get token: Post \"https://...\"": an HTTP verb, then the URL
                    "get", "post", "put", "patch", "delete", "head"})
# The kubelet's `volume "db-secret" : secret "db-secret" not found`: after a quoted name, a kind
# and then the object's quoted name.
_KINDS = frozenset({"secret", "configmap", "serviceaccount", "token", "volume", "pod", "service", "node",
                    "persistentvolumeclaim", "persistentvolume", "storageclass"})

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)

# Incoming-webhook URLs carry their secret in the path, not in userinfo.
_WEBHOOK = re.compile(
    r"(?i)(https?://(?:hooks\.slack\.com/(?:services|workflows|triggers)|(?:[\w-]+\.)?discord(?:app)?\.com/api/"
    r"webhooks|[\w-]+\.webhook\.office\.com/webhookb2|outlook\.office\.com/webhook)/)" + _NOT_MASKED
    + r"[^\s\"'<>]+")

# scheme://user:password@host: the password may hold '/' and '@', so it runs to the LAST '@' of
# the URL (greedy), which is the one before the host. Bounded, so a line of URLs without any '@'
# is not scanned to its end from every scheme.
_USERINFO = re.compile(r"(?i)(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,30}+://[^\s:/@\"'<>]{0,200}+:)" + _NOT_MASKED
                       + r"[^\s\"'<>]{1,512}@(?=[\w\[])")

_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]{5,}+")
# Tokens whose prefix says what they are, wherever they stand: GitHub, GitLab, Slack, Stripe, npm.
_PREFIXED = re.compile(r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{20,}+|github_pat_\w{20,}+|glpat-[\w-]{20,}+"
                       r"|xox[abposre]-[A-Za-z0-9-]{10,}+|[sr]k_(?:live|test)_[A-Za-z0-9]{10,}+|npm_[A-Za-z0-9]{30,}+)")
_OCI_TOKEN = re.compile(r"ST\$[A-Za-z0-9._-]{16,}+")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")

# Headers whose whole value is a credential; the auth scheme word (Bearer, Basic...) is kept.
_HEADER = re.compile(
    r"(?i)(?<![\w-])((?:proxy-)?authorization|(?:set-)?cookie|x-[\w-]{0,40}?(?:auth|token|key|secret|session"
    r"|signature)[\w-]*+)([\"']?[ \t]*+[:=][ \t]*+)(?>((?:" + _SCHEMES + r")[ \t]+)?)"
    + _NOT_MASKED + r"([^\n]+)")

_SCHEME = re.compile(r"(?i)\b(bearer|basic)(\s++)" + _NOT_MASKED + r"[A-Za-z0-9._~+/=-]{8,}+")

# Kubernetes env entries quoted as JSON: {"name": "DB_PASSWORD", "value": "..."}.
_ENV_JSON = re.compile(r"(?i)(\"name\"\s*:\s*\"[^\"\n]{0,100}?(?:" + _WORDS
                       + r")[^\"\n]{0,100}\"\s*,\s*\"value\"\s*:\s*\")" + _NOT_MASKED + r"[^\"\n]*(\")")

# KEY=value, key: value, "key": "value" (quoted values may hold spaces). The look-ahead finds a
# credential word within the run of key characters; the run itself is then taken whole.
_KEY_VALUE = re.compile(
    r"(?i)(?<![\w.-])((?=[\w.-]{0,80}?(?:" + _WORDS + r"))[\w.-]{1,120}+)([\"']?)([ \t]*+(?:=>|[=:])[ \t]*+)"
    + _NOT_MASKED + r"(\"[^\"\n]{0,4096}\"|'[^'\n]{0,4096}'|[^\s\"',;&}]+)")

# Values given after a space: `mysql --password x`, `--api-token x`, `password x`, `pwd x`.
_SPACED = re.compile(
    r"(?i)(?<![\w.-])(--?[\w-]{0,40}?(?:password|passwd|pwd|pass(?![a-z])|token|secret|api-?key)[\w-]*+"
    r"|password|passwd|pwd)([ \t]++)" + _NOT_MASKED + r"(?!-)([^\s\"',;&}]+)")


# Password flags that take the value in the next word (`docker login -p X`) or glued on (`mysql -pX`):
# `-p` means a port elsewhere, so only after the tool's name on the same line.
_LOGIN_P = re.compile(r"(\b(?i:docker|podman|nerdctl|buildah|skopeo|oras|helm registry|crane auth)[ \t]++login"
                      r"(?:[ \t]++(?!-p(?!\S))\S++){0,12}+[ \t]++-p[ \t]++)" + _NOT_MASKED + r"[^\s\"',;&}]+")
_MYSQL_P = re.compile(r"(\b(?i:mysql(?:dump|admin|sh)?)(?:[ \t]++(?!-p)\S++){0,12}+[ \t]++-p)" + _NOT_MASKED
                      + r"[^\s\"',;&}]+")

# Prose that names a token before a colon: "the token for registry ocir.io: X". Only a value that
# looks machine-made (a digit, or long) is masked, so "token refresh failed: timeout" stays readable.
_PROSE_TOKEN = re.compile(r"(?i)(\b(?:token|password|secret|api[ _-]?key)\b[^:\n]{0,60}?:[ \t]++)" + _NOT_MASKED
                          + r"([^\s\"',;&}]+)")

# A placeholder in a command we print (`--docker-password='<auth-token>'`) is not a credential.
_PLACEHOLDER = re.compile(r"[\"']?<[\w .-]{1,40}>[\"']?")
# With a colon (prose, YAML) the credential word must end the key: "Unauthorized: authentication
# required", "secretRef: app-env" and "secrets: needs RBAC" are not credentials; `KEY=value` is
# masked wherever the word stands (DB_PASS_FILE=, PGPASSWORD=).
_KEY_ENDS = re.compile(r"(?i)(?:" + _WORDS + r")(?:[_-]?(?:key|id|value|b64|base64|json|hash|data))?[\"']?$")


# Two lower-case words after "authorization:" are prose, never its value (which starts with a
# scheme, a capitalised one such as Signature, or a token).
_HEADER_PROSE = re.compile(r"(?<![a-z])[a-z]++ [a-z]++(?![\w=])")  # (?<!): linear under search() too


def _header(m: re.Match[str]) -> str:
    """A credential header's value: to the end of the line, or, quoted (JSON, YAML), to its closing
    quote, so the next field stays readable. The rest of the line is masked with it otherwise: a
    `signature="..."` after `Authorization: Bearer x,` must not survive."""
    key, sep, scheme, value = m.groups()
    if not scheme and key.lower() == "authorization" and _HEADER_PROSE.match(value):
        return m.group(0)  # containerd's "may require authorization: server message: ..."
    head = f"{key}{sep}{scheme or ''}"
    opened = m.string[m.start() - 1] if m.start() else ""  # curl -H 'Authorization: ...'
    if "\"" in sep or "'" in sep or value[0] in "\"'" or opened in ("\"", "'"):
        lead = value[0] if value[0] in "\"'" else ""
        body = value[len(lead):]
        end = next((i for i, ch in enumerate(body) if ch in "\"'"), len(body))
        return f"{head}{lead}{MASK}{body[end:]}"
    return f"{head}{MASK}"


def _machine_made(value: str) -> bool:
    return any(ch.isdigit() for ch in value) or len(value) >= 20


def _prose_token(m: re.Match[str]) -> str:
    lead, value = m.groups()
    return f"{lead}{MASK}" if _machine_made(value) else m.group(0)


def _key_value(m: re.Match[str]) -> str:
    key, quote, sep, value = m.groups()
    if sep == ":" and not quote and re.search(r"[.-]", key) and re.match(r"\d{1,5}(?!\w)", value):
        return m.group(0)  # host:port (auth-service:8080), a dependency the log hints must still name
    if sep.strip() == ":" and sep != ":" and value.lower() in _PROSE:
        return m.group(0)
    if ":" in sep and not _KEY_ENDS.search(key):
        return m.group(0)
    if quote and ":" in sep and value.lower() in _KINDS and m.string.startswith(' "', m.end()):
        return m.group(0)
    if _PLACEHOLDER.fullmatch(value):
        return m.group(0)
    masked = f"{value[0]}{MASK}{value[0]}" if value[0] in "\"'" else MASK
    return f"{key}{quote}{sep}{masked}"


def _spaced(m: re.Match[str]) -> str:
    key, sep, value = m.groups()
    return m.group(0) if value.lower() in _PROSE else f"{key}{sep}{MASK}"


_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (_PEM, MASK),
    (_WEBHOOK, rf"\1{MASK}"),
    (_USERINFO, rf"\1{MASK}@"),
    (_JWT, MASK),
    (_PREFIXED, MASK),
    (_OCI_TOKEN, MASK),
    (_AWS_KEY_ID, MASK),
    (_HEADER, _header),
    (_SCHEME, rf"\1\2{MASK}"),
    (_ENV_JSON, rf"\1{MASK}\2"),
    (_KEY_VALUE, _key_value),
    (_SPACED, _spaced),
    (_LOGIN_P, rf"\1{MASK}"),
    (_MYSQL_P, rf"\1{MASK}"),
    (_PROSE_TOKEN, _prose_token),
)


# Literals (lower case) one of which every rule above needs in its match: a string holding none
# cannot hold what a rule masks and skips the rules. Most strings in a report (names, addresses,
# OCIDs, fix commands) take one scan for these instead of fourteen regex passes.
# tests/test_redact_shared.py holds every masking case to it.
_GATE = ("-----begin", "://", "eyj", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xox",
         "k_live_", "k_test_", "npm_", "st$", "akia", "asia", "authorization", "cookie", "x-", "bearer", "basic",
         "pass", "pwd", "secret", "token", "credential", "auth", "session", "dsn", "signature", "key", "conn",
         "login", "mysql")


# Plain literals over the lower-cased text: the regex engine skips ahead on their first letters.
_GATE_RE = re.compile("|".join(re.escape(word) for word in _GATE))


def _may_hold_credential(text: str) -> bool:
    return _GATE_RE.search(text.lower()) is not None


@overload
def redact(text: str) -> str: ...
@overload
def redact(text: None) -> None: ...
def redact(text: str | None) -> str | None:
    """`text` with every credential-looking substring replaced by <redacted>."""
    if not text or not _may_hold_credential(text):
        return text
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return text
