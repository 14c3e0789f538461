"""What a command run with `kubectl exec` prints inside a simulated container.

The scenario file says, per container, which executables exist (`tools`) and what
`GET http://localhost:<port>/` answers (`localhost`). This module interprets the commands an
engineer types (curl, wget, `sh -c` around them) and okedoctor's own probe (the constant argv
forms of okedoctor.probe_scripts), printing what those tools print for that answer. Anything
else is refused with a clear message rather than guessed.
"""

from __future__ import annotations

import http
import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from okedoctor import probe_scripts as ps

DEFAULT_TOOLS = ("sh", "curl", "wget")
MAX_DELAY = 1.0  # a timeout's wall-clock cost in the sim; the exit code is the real one
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


@dataclass
class ExecResult:
    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    # Set when the container runtime cannot start the process at all (no such executable).
    runtime_error: str | None = None
    delay: float = 0.0
    # The start of stderr that the command writes before its delay (PROBE_SH's line naming the
    # tool, printed before it execs the tool that then waits): written to the stream at once.
    early_stderr: str = ""


def not_modelled(what: str) -> ExecResult:
    return ExecResult(stderr=f"okedoctor sim: {what} is not modelled: the scenario file describes only "
                             "HTTP answers on localhost (curl, wget, python3 and bash probes)\n", exit_code=1)


def run_command(argv: list[str], live: dict[str, Any]) -> ExecResult:
    if not argv:
        return ExecResult(runtime_error="OCI runtime exec failed: exec failed: unable to start container "
                                        "process: exec: no command: unknown")
    exe = argv[0]
    name = exe.rsplit("/", 1)[-1]
    tools = live.get("tools") if "tools" in live else list(DEFAULT_TOOLS)
    if name not in (tools or []):
        if "/" in exe:
            why = f'exec: "{exe}": stat {exe}: no such file or directory: unknown'
        else:
            why = f'exec: "{exe}": executable file not found in $PATH: unknown'
        return ExecResult(runtime_error="OCI runtime exec failed: exec failed: unable to start container "
                                        f"process: {why}")
    if name in ("sh", "bash", "ash", "dash"):
        return _shell(name, argv, live)
    if name == "curl":
        return _curl(argv[1:], live)
    if name == "wget":
        return _wget(argv[1:], live)
    if name in ("python3", "python"):
        if len(argv) == 5 and argv[1] == "-c" and argv[2] == ps.PYTHON_GET:
            return _python_probe(argv[3], argv[4], live)
        return not_modelled(f"`{name}` with this script")
    return not_modelled(f"`{name}`")


def _shell(name: str, argv: list[str], live: dict[str, Any]) -> ExecResult:
    if len(argv) >= 3 and argv[1] == "-c":
        script = argv[2]
        if name == "bash" and script == ps.BASH_DEVTCP_GET and len(argv) == 7:
            return _bash_probe(argv[3], argv[4], argv[5], argv[6], live)
        if script == ps.PROBE_SH and len(argv) == 10:
            return _probe_sh(argv[3:], live)
        words = script.split()
        if len(words) == 2 and words[0] == "exit" and words[1].isdigit():
            return ExecResult(exit_code=int(words[1]) % 256)
        if any(op in script for op in ("|", "&", ";", ">", "<", "$", "`", "\n")):
            return not_modelled(f"the shell script {script!r}")
        try:
            inner = shlex.split(script)
        except ValueError as exc:
            return ExecResult(stderr=f"{name}: syntax error: {exc}\n", exit_code=2)
        return run_command(inner, live) if inner else ExecResult()
    return not_modelled(f"an interactive `{name}`")


# ---- what localhost answers --------------------------------------------------------------------

@dataclass
class Target:
    host: str
    port: int
    path: str
    scheme: str = "http"


def parse_url(url: str) -> Target | None:
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return Target(parts.hostname or "", port, parts.path or "/", parts.scheme or "http")


def answer(live: dict[str, Any], target: Target) -> dict[str, Any] | str:
    """The file's answer for target, or a sentence saying why the sim cannot know it."""
    if target.host not in LOCAL_HOSTS:
        return f"a request to {target.host} (only localhost inside the container is modelled)"
    local = live.get("localhost")
    if not isinstance(local, dict):
        return "localhost in this container (the file has no live `localhost` entry for it)"
    # The file lists what listens on localhost; a port it does not list has nothing listening.
    ans = local.get(str(target.port), local.get(target.port))
    if not isinstance(ans, dict):
        return {"error": "refused"}
    if "error" in ans and ans["error"] not in ("refused", "timeout", "reset"):
        return f"port {target.port}, whose recorded answer {{error: {ans['error']!r}}} cannot be replayed"
    return _over_tls(ans, target)


def _over_tls(ans: dict[str, Any], target: Target) -> dict[str, Any] | str:
    """A port recorded with `tls: true` speaks TLS: plain HTTP gets what `plainHttp` says (a reset
    by default, as Envoy does); a TLS client on a plain port fails its handshake."""
    if "error" in ans and ans["error"] in ("refused", "timeout"):
        return ans  # nothing is said before the handshake
    if target.scheme == "https" and not ans.get("tls"):
        return {"error": "handshake"}
    if target.scheme != "https" and ans.get("tls"):
        plain = ans.get("plainHttp") or {"error": "reset"}
        if not isinstance(plain, dict) or plain.get("error") not in (None, "reset", "timeout"):
            return f"port {target.port}'s plainHttp answer {plain!r}, which cannot be replayed"
        return plain
    return ans


def _delay(timeout: float | None) -> float:
    return MAX_DELAY if timeout is None else max(0.0, min(timeout, MAX_DELAY))


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _body(ans: dict[str, Any]) -> str:
    body = ans.get("body")
    return "" if body is None else str(body)


# ---- curl ----------------------------------------------------------------------------------

_CURL_VALUE = {"o": "output", "w": "write-out", "m": "max-time", "H": "header", "X": "request",
               "A": "user-agent", "e": "referer", "u": "user", "x": "proxy", "d": "data", "T": "upload-file"}
_CURL_FLAGS = {"s": "silent", "S": "show-error", "f": "fail", "I": "head", "i": "include", "L": "location",
               "k": "insecure", "v": "verbose", "4": "ipv4", "6": "ipv6", "N": "no-buffer", "q": "disable"}
_CURL_LONG_VALUE = {"output", "write-out", "max-time", "connect-timeout", "header", "request", "user-agent",
                    "referer", "user", "proxy", "data", "retry", "resolve", "cacert", "upload-file"}


def _parse_curl(args: list[str]) -> tuple[dict[str, str], list[str]] | str:
    opts: dict[str, str] = {}
    urls: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and len(arg) > 2:
            key, eq, value = arg[2:].partition("=")
            if key in _CURL_LONG_VALUE:
                if not eq:
                    i += 1
                    if i >= len(args):
                        return f"curl: option --{key}: requires parameter"
                    value = args[i]
                opts[key] = value
            else:
                opts[key] = "1"
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                if ch in _CURL_VALUE:
                    value = arg[j + 1:]
                    if not value:
                        i += 1
                        if i >= len(args):
                            return f"curl: option -{ch}: requires parameter"
                        value = args[i]
                    opts[_CURL_VALUE[ch]] = value
                    break
                if ch not in _CURL_FLAGS:
                    return f"curl: option -{ch}: is unknown"
                opts[_CURL_FLAGS[ch]] = "1"
                j += 1
        else:
            urls.append(arg)
        i += 1
    return opts, urls


def _write_out(fmt: str, code: int, size: int, url: str, exit_code: int) -> str:
    out, i = [], 0
    values = {"http_code": f"{code:03d}", "response_code": f"{code:03d}", "size_download": str(size),
              "exitcode": str(exit_code), "url_effective": url, "url": url, "time_total": "0.001000",
              "time_connect": "0.000100", "time_starttransfer": "0.001000", "num_connects": "1"}
    while i < len(fmt):
        ch = fmt[i]
        if ch == "\\" and i + 1 < len(fmt) and fmt[i + 1] in "nrt\\":
            out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}[fmt[i + 1]])
            i += 2
        elif fmt.startswith("%{", i) and "}" in fmt[i:]:
            end = fmt.index("}", i)
            out.append(values.get(fmt[i + 2:end], ""))
            i = end + 1
        elif fmt.startswith("%%", i):
            out.append("%")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _curl(args: list[str], live: dict[str, Any]) -> ExecResult:
    parsed = _parse_curl(args)
    if isinstance(parsed, str):
        return ExecResult(stderr=parsed + "\ncurl: try 'curl --help' or 'curl --manual' for more information\n",
                          exit_code=2)
    opts, urls = parsed
    if not urls:
        return ExecResult(stderr="curl: no URL specified\ncurl: try 'curl --help' or 'curl --manual' "
                                 "for more information\n", exit_code=2)
    method = opts.get("request", "HEAD" if "head" in opts else "GET").upper()
    if method not in ("GET", "HEAD") or "data" in opts or "upload-file" in opts:
        return not_modelled(f"curl with method {method}")
    target = parse_url(urls[0])
    if target is None:
        return ExecResult(stderr="curl: (3) URL rejected: Bad hostname\n", exit_code=3)
    ans = answer(live, target)
    if isinstance(ans, str):
        return not_modelled(ans)
    timeout = _float(opts.get("max-time"))
    silent, show = "silent" in opts, "show-error" in opts
    url = urls[0] if "://" in urls[0] else "http://" + urls[0]
    res = ExecResult()
    if "error" in ans:
        code, msg = {
            "refused": (7, f"Failed to connect to {target.host} port {target.port} after 0 ms: "
                           "Couldn't connect to server"),
            "timeout": (28, f"Operation timed out after {int((timeout or MAX_DELAY) * 1000)} milliseconds "
                            "with 0 bytes received"),
            "reset": (56, "Recv failure: Connection reset by peer"),
            "handshake": (35, "OpenSSL/3.0.13: error:0A00010B:SSL routines::wrong version number"),
        }[str(ans["error"])]
        res.exit_code = code
        res.delay = _delay(timeout) if code == 28 else 0.0
        if "write-out" in opts:
            res.stdout = _write_out(opts["write-out"], 0, 0, url, code)
        if not silent:
            res.stderr = _progress(0, done=False)
        if not silent or show:
            res.stderr += f"curl: ({code}) {msg}\n"
        return res
    if target.scheme == "https" and "insecure" not in opts:
        # The pod's certificate names its public host (or is self-signed), never localhost.
        res.exit_code = 60
        if not silent or show:
            res.stderr = "curl: (60) SSL certificate problem: self-signed certificate in certificate chain\n"
        return res
    status = int(ans.get("status", 200))
    body = _body(ans)
    head = f"HTTP/1.1 {status} {_phrase(status)}\r\ncontent-length: {len(body.encode())}\r\n\r\n"
    if "fail" in opts and status >= 400:
        res.exit_code = 22
        if not silent or show:
            res.stderr = f"curl: (22) The requested URL returned error: {status}\n"
        out = ""
    elif method == "HEAD":
        out = head
    else:
        out = (head if "include" in opts else "") + body
    if "output" in opts and opts["output"] != "-":
        out = ""
    if "write-out" in opts:
        out += _write_out(opts["write-out"], status, len(body.encode()), url, res.exit_code)
    res.stdout = out
    if not silent and res.exit_code == 0:
        res.stderr = _progress(len(body.encode()))
    return res


def _progress(size: int, done: bool = True) -> str:
    # curl prints its progress meter to stderr when stdout is not a terminal (as under exec).
    pct, speed = (100, size * 1000) if done else (0, 0)
    return ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
            "                                 Dload  Upload   Total   Spent    Left  Speed\n"
            f"{pct:>3} {size:>5}  {pct:>3} {size:>5}    0     0   {speed:>5}      0 --:--:-- --:--:-- "
            f"--:--:-- {speed:>5}\n")


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


# ---- wget (busybox: the wget of images that ship wget but no curl) -----------------------------

def _parse_wget(args: list[str]) -> tuple[dict[str, str], list[str]] | str:
    opts: dict[str, str] = {}
    urls: list[str] = []
    long_value = {"output-document": "O", "timeout": "T", "user-agent": "U", "header": "header"}
    long_flag = {"quiet": "q", "server-response": "S", "spider": "spider", "no-check-certificate": "k"}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            key, eq, value = arg[2:].partition("=")
            if key in long_value:
                if not eq:
                    i += 1
                    value = args[i] if i < len(args) else ""
                opts[long_value[key]] = value
            elif key in long_flag:
                opts[long_flag[key]] = "1"
            else:
                return f"wget: unrecognized option '--{key}'"
        elif arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                if ch in "OTUYP":
                    value = arg[j + 1:]
                    if not value:
                        i += 1
                        value = args[i] if i < len(args) else ""
                    opts[ch] = value
                    break
                if ch not in "qScs":
                    return f"wget: invalid option -- '{ch}'"
                opts[ch] = "1"
                j += 1
        else:
            urls.append(arg)
        i += 1
    return opts, urls


def _wget(args: list[str], live: dict[str, Any]) -> ExecResult:
    parsed = _parse_wget(args)
    if isinstance(parsed, str):
        return ExecResult(stderr=parsed + "\nBusyBox v1.36.1 multi-call binary.\n", exit_code=1)
    opts, urls = parsed
    if not urls:
        return ExecResult(stderr="BusyBox v1.36.1 multi-call binary.\n\nUsage: wget [-cqS] [--spider] "
                                 "[--header STR] [-O FILE] [-T SEC] URL...\n", exit_code=1)
    target = parse_url(urls[0])
    if target is None:
        return ExecResult(stderr=f"wget: bad address '{urls[0]}'\n", exit_code=1)
    ans = answer(live, target)
    if isinstance(ans, str):
        return not_modelled(ans)
    quiet = "q" in opts
    res = ExecResult()
    err: list[str] = [] if quiet else [f"Connecting to {target.host}:{target.port} (127.0.0.1:{target.port})\n"]
    if "error" in ans:
        kind = str(ans["error"])
        res.exit_code = 1
        if kind == "refused":
            err.append("wget: can't connect to remote host (127.0.0.1): Connection refused\n")
        elif kind == "timeout":
            err.append("wget: download timed out\n")
            res.delay = _delay(_float(opts.get("T")) or 900.0)
        elif kind == "handshake":
            err.append("ssl_client: handshake failed: error:0A00010B:SSL routines::wrong version number\n"
                       "wget: error getting response: Connection reset by peer\n")
        else:
            err.append("wget: error getting response: Connection reset by peer\n")
        res.stderr = "".join(err)
        return res
    status = int(ans.get("status", 200))
    body = _body(ans)
    if "S" in opts:
        err.append(f"  HTTP/1.1 {status} {_phrase(status)}\n  Content-Length: {len(body.encode())}\n"
                   "  Connection: close\n  \n")
    if status >= 400:
        err.append(f"wget: server returned error: HTTP/1.1 {status} {_phrase(status)}\n")
        res.exit_code = 1
    elif "spider" in opts:
        pass
    elif opts.get("O") == "-":
        res.stdout = body
        if not quiet:
            err.append("writing to stdout\nwritten to stdout\n")
    elif not quiet:
        err.append(f"saving to '{opts.get('O') or 'index.html'}'\n")
    res.stderr = "".join(err)
    return res


# ---- okedoctor's own probe forms (okedoctor.probe_scripts) -------------------------------------

def _probe_sh(args: list[str], live: dict[str, Any]) -> ExecResult:
    """PROBE_SH: `command -v` each tool in order, then what its `exec` line runs, after the line
    that names the tool found and those missing."""
    _, port, path, timeout, scheme, python_get, bash_get = args
    if (python_get, bash_get) != (ps.PYTHON_GET, ps.BASH_DEVTCP_GET) or scheme not in ("http", "https") \
            or not port.isdigit() or not timeout.isdigit():
        return not_modelled("okedoctor's probe script with these arguments")
    tools = live.get("tools") if "tools" in live else list(DEFAULT_TOOLS)
    url = f"{scheme}://localhost:{port}{path}"
    missing: list[str] = []
    for tool in ps.tools_for(scheme == "https"):
        if tool not in (tools or []):
            missing.append(tool)
            continue
        argv = {"curl": lambda: ps.curl_argv(url, int(timeout)), "wget": lambda: ps.wget_argv(url, int(timeout)),
                "python3": lambda: ps.python_argv(url, int(timeout)),
                "bash": lambda: ps.bash_argv("localhost", int(port), path, int(timeout))}[tool]()
        res = run_command(argv, live)
        res.early_stderr = f"{ps.FOUND_MARK} {tool}; missing:{''.join(' ' + m for m in missing)}\n"
        res.stderr = res.early_stderr + res.stderr
        return res
    return ExecResult(stderr=f"{ps.FOUND_MARK} none; missing:{''.join(' ' + m for m in missing)}\n", exit_code=127)


def _python_probe(url: str, timeout: str, live: dict[str, Any]) -> ExecResult:
    target = parse_url(url)
    ans = answer(live, target) if target else "this URL"
    if isinstance(ans, str):
        return not_modelled(ans)
    if "error" in ans:
        code = {"refused": ps.EXIT_REFUSED, "timeout": ps.EXIT_TIMEOUT}.get(str(ans["error"]), ps.EXIT_RESET)
        return ExecResult(exit_code=code, delay=_delay(_float(timeout)) if code == ps.EXIT_TIMEOUT else 0.0)
    body = _body(ans).encode()[:ps.BODY_LIMIT].decode("utf-8", "replace")
    return ExecResult(stdout=f"{body}\n{int(ans.get('status', 200))}\n")


def _bash_probe(host: str, port: str, path: str, timeout: str, live: dict[str, Any]) -> ExecResult:
    if not port.isdigit():
        return ExecResult(exit_code=ps.EXIT_REFUSED)
    ans = answer(live, Target(host, int(port), path))
    if isinstance(ans, str):
        return not_modelled(ans)
    if "error" in ans:
        if ans["error"] == "refused":
            return ExecResult(exit_code=ps.EXIT_REFUSED)
        # A reset makes `read` fail just like a timeout does: the script exits 28 for both.
        delay = _delay(_float(timeout)) if ans["error"] == "timeout" else 0.0
        return ExecResult(exit_code=ps.EXIT_TIMEOUT, delay=delay)
    body = _body(ans).encode()[:ps.BODY_LIMIT].decode("utf-8", "replace")
    return ExecResult(stdout=f"{body}\n{int(ans.get('status', 200))}\n")
