"""What an ingress controller refused of an Ingress: an annotation it rejects, read from the
controller's own log lines and from the events on the Ingress.

A rejected annotation leaves no trace in the Ingress object itself. ingress-nginx's admission
webhook denies the write ("admission webhook "validate.nginx.ingress.kubernetes.io" denied the
request: ..."), so an Ingress that exists was written before the rule changed (an upgrade to
v1.12, whose `annotations-risk-level` turns snippets away) or while the webhook was off; the
controller then logs the refusal and drops the Ingress, and its log line does not even name it
(kubernetes/ingress-nginx#12873: "annotation group ConfigurationSnippet contains risky
annotation based on ingress configuration"). So an Ingress is tied to a refusal by the
annotation the refusal names. Traefik logs a router it could not build ("middleware
"ns-name@kubernetescrd" does not exist", routerName=`<namespace>-<ingress>-<host>...@kubernetes`)
and serves nothing for it. Events on the Ingress that name one of its annotations count too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from okedoctor.chain import ingress as ing
from okedoctor.facts import Facts
from okedoctor.redact import redact

Obj = dict[str, Any]

ANNOTATION_REJECTED = "OKD-ING-006"  # the check reporting a Rejection; causes name it from here
NGINX_PREFIX = "nginx.ingress.kubernetes.io/"
TRAEFIK_MIDDLEWARES = "traefik.ingress.kubernetes.io/router.middlewares"
# The annotation prefix each controller reads; an Ingress it serves carrying another controller's
# prefix configures nothing (OKD-ING-008).
READS_PREFIX = {"ingress-nginx": NGINX_PREFIX, "traefik": "traefik.ingress.kubernetes.io/"}
FOREIGN_PREFIXES = {"nginx.ingress.kubernetes.io/": "ingress-nginx", "traefik.ingress.kubernetes.io/": "traefik"}

# klog's E/W lines (ingress-nginx), nginx's own [emerg] lines (a reload that failed, quoted under
# klog's line) and logrus/zerolog's error and warning levels (Traefik, text or JSON).
_PROBLEM_LINE = re.compile(r'^\s*[EW]\d{4} |\[emerg\]|level=(?:error|warn(?:ing)?)\b'
                           r'|"level":\s*"(?:error|warn(?:ing)?)"')
_RISKY = re.compile(r"annotation group (\w++) contains risky annotation")
# Each run of non-space characters is tried once (lookbehind, possessive): linear on a 1 MB line.
_SNIPPETS_OFF = re.compile(r"(?<!\S)(\S++) annotation cannot be used\. Snippet directives are disabled")
_INVALID_WORD = re.compile(r"(?<!\S)(\S++) annotation contains invalid word (\S++)")
_INVALID_VALUE = re.compile(r"annotation (\S++) contains invalid value")
_MIDDLEWARE = re.compile(r'middleware \\*+"([^"\\]++)\\*+" does not exist')
_ROUTER = re.compile(r'routerName[=":]++([^\s"]++)')
_EMERG_TOKEN = re.compile(r'\[emerg\][^"\[]{0,200}+"([^"]{1,200}+)"')
_NAMED = re.compile(r'ingress="([^"]++)"')
# client-go's reflector line when the controller's account may not list a kind it watches
# (kubernetes/ingress-nginx#10684, rancher/rke2#3702); quotes may come escaped (klog's err="...").
_FORBIDDEN = re.compile(r'is forbidden: User \\*"system:serviceaccount:([^:"\\\s]++):([^"\\\s]++)\\*" '
                        r'cannot (\w++) resource \\*"([^"\\\s]++)\\*" in API group \\*"([^"\\\s]*+)\\*"')
LOG_KEEP_LINES = 50  # per container: what a snapshot keeps of a controller's log (the newest)


@dataclass(frozen=True)
class Rejection:
    """One annotation of one Ingress that the controller refused, and the line that says so."""

    ingress: Obj
    annotation: str
    source: str  # "log ns/pod/container" or "event Reason"
    line: str  # redacted
    drops_ingress: bool  # the controller serves nothing of the Ingress (else it only ignores the annotation)
    detail: str = ""  # what in the annotation was refused (a middleware's name), when the line says

    @property
    def namespace(self) -> str:
        return (self.ingress.get("metadata") or {}).get("namespace") or "default"

    @property
    def name(self) -> str:
        return (self.ingress.get("metadata") or {}).get("name", "")


def problem_lines(text: str) -> list[str]:
    """The warning and error lines of a controller's log, newest last: what is kept of it. Its access
    log (client addresses, paths, user agents) is left out."""
    return [line for line in text.splitlines() if _PROBLEM_LINE.search(line)][-LOG_KEEP_LINES:]


def controller_lines(facts: Facts, pods: list[Obj], previous: bool = False) -> list[tuple[str, str]]:
    """(where, line) for each warning or error line the controller pods' logs hold (`previous`: the
    last terminated instance's, for a controller that crashed)."""
    out = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        for c in (pod.get("spec") or {}).get("containers") or []:
            seen = facts.container_live(meta.get("namespace") or "default", meta.get("name", ""), c["name"]) or {}
            where = f"log {meta.get('namespace') or 'default'}/{meta.get('name')}/{c['name']}"
            text = str(seen.get("previousLogs" if previous else "logs") or "")
            out += [(where, line.strip()) for line in problem_lines(text)]
    return out


def _annotations(ingress: Obj) -> dict[str, str]:
    return (ingress.get("metadata") or {}).get("annotations") or {}


def _kebab(group: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", group).lower()


def _nginx_keys(line: str) -> tuple[list[str], bool]:
    """The annotation keys (or key suffixes) an ingress-nginx line refuses, and whether it drops the Ingress."""
    if m := _RISKY.search(line):
        return [NGINX_PREFIX + _kebab(m.group(1))], True
    if m := _SNIPPETS_OFF.search(line):
        return [m.group(1)], False
    for pattern in (_INVALID_WORD, _INVALID_VALUE):
        if m := pattern.search(line):
            return [m.group(1)], True
    return [], False


def _traefik_hit(line: str, ingress: Obj) -> str | None:
    """The middleware the line says does not exist, when `ingress`'s router names it in its middlewares annotation."""
    m, router = _MIDDLEWARE.search(line), _ROUTER.search(line)
    value = _annotations(ingress).get(TRAEFIK_MIDDLEWARES) or ""
    if not m or not router or m.group(1) not in [v.strip() for v in value.split(",")]:
        return None
    meta = ingress.get("metadata") or {}
    prefix = f"{meta.get('namespace') or 'default'}-{meta.get('name')}-"
    return m.group(1) if router.group(1).startswith(prefix) else None


def _from_log(kind: ing.ControllerKind, line: str, ingresses: list[Obj], where: str) -> list[Rejection]:
    out = []
    if kind.name == "traefik":
        for ingress in ingresses:
            if (middleware := _traefik_hit(line, ingress)) is not None:
                out.append(Rejection(ingress, TRAEFIK_MIDDLEWARES, where, redact(line), True, middleware))
        return out
    if kind.name != "ingress-nginx":
        return out
    keys, drops = _nginx_keys(line)
    for ingress in ingresses:
        named = _NAMED.search(line)
        meta = ingress.get("metadata") or {}
        if named and named.group(1) != f"{meta.get('namespace') or 'default'}/{meta.get('name')}":
            continue
        out += [Rejection(ingress, k, where, redact(line), drops) for k in keys if k in _annotations(ingress)]
    return out


def _from_events(facts: Facts, ingress: Obj) -> list[Rejection]:
    out = []
    for ev in facts.events_for(ingress):
        if ev.get("type") != "Warning":
            continue
        message = str(ev.get("message") or ev.get("note") or "")
        for key in _annotations(ingress):
            if key in message:
                out.append(Rejection(ingress, key, f"event {ev.get('reason') or 'Warning'}", redact(message), False))
    return out


def rejections(facts: Facts, kind: ing.ControllerKind, pods: list[Obj], ingresses: list[Obj]) -> list[Rejection]:
    """Every refusal of an annotation of `ingresses` by the controller `kind` (its pods' logs) or in their events."""
    found: dict[tuple[str, str, str], Rejection] = {}
    candidates = [i for i in ingresses if _annotations(i)]
    for where, line in controller_lines(facts, pods):
        for r in _from_log(kind, line, candidates, where):
            found.setdefault((r.namespace, r.name, r.annotation), r)
    for ingress in candidates:
        for r in _from_events(facts, ingress):
            found.setdefault((r.namespace, r.name, r.annotation), r)
    return list(found.values())


def configmap_ref(pods: list[Obj]) -> tuple[str, str] | None:
    """The ConfigMap ingress-nginx reads its settings from (`--configmap=NS/NAME`), else None."""
    for pod in pods:
        ns = (pod.get("metadata") or {}).get("namespace") or "default"
        for c in (pod.get("spec") or {}).get("containers") or []:
            for arg in c.get("args") or []:
                if str(arg).startswith("--configmap="):
                    value = str(arg).split("=", 1)[1].replace("$(POD_NAMESPACE)", ns)
                    cm_ns, _, name = value.rpartition("/")
                    return cm_ns or ns, name
    return None


def foreign_annotations(ingress: Obj, kind: ing.ControllerKind) -> list[tuple[str, str]]:
    """(annotation, the controller reading it) for the annotations of another controller on an Ingress `kind` serves."""
    own = READS_PREFIX.get(kind.name)
    if own is None:
        return []
    return [(key, who) for key in sorted(_annotations(ingress)) for prefix, who in FOREIGN_PREFIXES.items()
            if key.startswith(prefix) and prefix != own]


def reload_breakers(facts: Facts, kind: ing.ControllerKind, pods: list[Obj]) -> list[tuple[Obj, str, str]]:
    """(Ingress, annotation, token) for each snippet annotation holding the word nginx's failed reload
    names ("[emerg] unknown directive "location1""): one Ingress's snippet stops every reload, and
    the controller keeps serving the configuration from before, for every host."""
    if kind.name != "ingress-nginx":
        return []
    tokens = {m.group(1) for _, line in controller_lines(facts, pods) if (m := _EMERG_TOKEN.search(line))}
    out = []
    for ingress in facts.objects("Ingress"):
        for key, value in sorted(_annotations(ingress).items()):
            if key.startswith(NGINX_PREFIX) and key.endswith("-snippet"):
                out += [(ingress, key, t) for t in sorted(tokens) if t in str(value)]
    return out


@dataclass(frozen=True)
class Denial:
    """A kind the controller's service account may not read, as its own log says (client-go's
    reflector: "... is forbidden: User "system:serviceaccount:NS:SA" cannot list resource ...")."""

    namespace: str
    account: str
    verb: str
    resource: str
    group: str  # "" for the core group

    @property
    def kind(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def user(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.account}"


def rbac_denials(facts: Facts, pods: list[Obj]) -> list[Denial]:
    """What the controller pods' logs say their account may not read, once each, in log order. A
    controller denied EndpointSlices (or Endpoints) knows no endpoint of any Service and answers
    for every host itself (ingress-nginx: 503), while its own pods stay Ready."""
    out: dict[Denial, None] = {}
    for _, line in controller_lines(facts, pods):
        if m := _FORBIDDEN.search(line):
            out.setdefault(Denial(*m.groups()), None)
    return list(out)
