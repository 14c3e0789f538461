"""The in-pod probe's command lines: one contract shared by the live probe and the simulator.

The probe runs `GET http://localhost:<port><path>` inside a container over exec with the first
tool the image has, in TOOL_ORDER. One exec does it: `sh -c PROBE_SH` looks the tools up with
`command -v` and execs the first it finds, saying on stderr's first line which one it chose and
which it did not find (FOUND_MARK). An image without sh (distroless) gets the tools themselves,
one exec each, side by side. A port that speaks TLS is probed at `https://` without
verifying the certificate (a pod's certificate names its public host, never localhost, and may
be self-signed: the probe asks whether the app answers, not whether its certificate is valid).
bash's /dev/tcp cannot speak TLS, so it is not used for such a port. Nothing from the cluster
is ever pasted into a script: the scripts below are constants and the host, port, path and
timeout travel as separate argv elements ($0, $1, ... for sh; sys.argv for python).

Every form prints the HTTP status code on the LAST line of stdout, after at most BODY_LIMIT
bytes of body, and exits with curl's codes on failure, so one parser reads them all:
7 = connection refused, 28 = timed out, 56 = connection reset.
"""

from __future__ import annotations

BODY_LIMIT = 256

# exit codes (curl's), used by every form
EXIT_REFUSED = 7
EXIT_TIMEOUT = 28
EXIT_RESET = 56

# python3 -c PYTHON_GET <url> <timeout-seconds>
PYTHON_GET = (
    "import sys,socket,ssl,urllib.request,urllib.error\n"
    "u,t=sys.argv[1],float(sys.argv[2])\n"
    "x=ssl._create_unverified_context() if u.startswith('https:') else None\n"
    "try:\n"
    " r=urllib.request.urlopen(u,timeout=t,context=x);c=r.status;b=r.read(%d)\n"
    "except urllib.error.HTTPError as e:\n"
    " c=e.code;b=e.read(%d)\n"
    "except (socket.timeout,TimeoutError):\n"
    " sys.exit(%d)\n"
    "except urllib.error.URLError as e:\n"
    " r=getattr(e,'reason',None)\n"
    " sys.exit(%d if isinstance(r,ConnectionRefusedError) else"
    " %d if isinstance(r,(socket.timeout,TimeoutError)) else %d)\n"
    "except ConnectionResetError:\n"
    " sys.exit(%d)\n"
    "sys.stdout.write(b.decode('utf-8','replace')+'\\n'+str(c)+'\\n')\n"
) % (BODY_LIMIT, BODY_LIMIT, EXIT_TIMEOUT, EXIT_REFUSED, EXIT_TIMEOUT, EXIT_RESET, EXIT_RESET)


def curl_argv(url: str, timeout: int) -> list[str]:
    """curl prints the body, then a newline and the status code (-k: TLS without verification)."""
    insecure = ["-k"] if url.startswith("https:") else []
    return ["curl", "-sS", *insecure, "-m", str(timeout), "-w", "\n%{http_code}\n", url]


def wget_argv(url: str, timeout: int) -> list[str]:
    """wget (GNU or busybox) with -S prints the status line to stderr; the body goes to stdout.

    The caller reads the status from stderr's `HTTP/1.x NNN` line; busybox wget exits 1 and
    GNU wget exits 8 on an HTTP error status, and both still print the status line.
    """
    insecure = ["--no-check-certificate"] if url.startswith("https:") else []
    return ["wget", "-S", "-q", *insecure, "-O", "-", "-T", str(timeout), url]


def python_argv(url: str, timeout: int) -> list[str]:
    return ["python3", "-c", PYTHON_GET, url, str(timeout)]


# bash -c BASH_DEVTCP_GET <host> <port> <path> <timeout-seconds>   (bash only: sh has no /dev/tcp)
BASH_DEVTCP_GET = (
    'exec 3<>"/dev/tcp/$0/$1" 2>/dev/null || exit %d\n'
    "printf 'GET %%s HTTP/1.0\\r\\nHost: %%s\\r\\n\\r\\n' \"$2\" \"$0\" >&3\n"
    'IFS= read -r -t "$3" status <&3 || exit %d\n'
    "while IFS= read -r -t \"$3\" h <&3 && [ -n \"${h%%$'\\r'}\" ]; do :; done\n"
    "head -c %d <&3\n"
    'status=${status#* }; printf \'\\n%%s\\n\' "${status%%%% *}"\n'
) % (EXIT_REFUSED, EXIT_TIMEOUT, BODY_LIMIT)


def bash_argv(host: str, port: int, path: str, timeout: int) -> list[str]:
    return ["bash", "-c", BASH_DEVTCP_GET, host, str(port), path, str(timeout)]


# The order the probe tries the tools in; the first the image has wins.
TOOL_ORDER = ("curl", "wget", "python3", "bash")

# What PROBE_SH writes to stderr before it runs the tool: `okedoctor-probe: curl; missing: wget python3`.
FOUND_MARK = "okedoctor-probe:"

# sh -c PROBE_SH probe <port> <path> <timeout> <http|https> <PYTHON_GET> <BASH_DEVTCP_GET>
# Every form below is the same argv the tool would get exec'd alone (curl_argv, wget_argv, ...),
# so the tools' outputs and exit codes, and their parser, are unchanged. bash's /dev/tcp speaks
# no TLS, so it is not looked for on https. Nothing from the cluster is in the script: it is a
# constant, and the port, path and timeout are positional parameters.
PROBE_SH = (
    'u="$4://localhost:$1$2"; k=""; m=""\n'
    '[ "$4" = https ] && k=1\n'
    'if command -v curl >/dev/null 2>&1; then\n'
    ' echo "%(mark)s curl; missing:$m" >&2\n'
    ' if [ -n "$k" ]; then exec curl -sS -k -m "$3" -w "\\n%%{http_code}\\n" "$u"; fi\n'
    ' exec curl -sS -m "$3" -w "\\n%%{http_code}\\n" "$u"\n'
    'fi\n'
    'm="$m curl"\n'
    'if command -v wget >/dev/null 2>&1; then\n'
    ' echo "%(mark)s wget; missing:$m" >&2\n'
    ' if [ -n "$k" ]; then exec wget -S -q --no-check-certificate -O - -T "$3" "$u"; fi\n'
    ' exec wget -S -q -O - -T "$3" "$u"\n'
    'fi\n'
    'm="$m wget"\n'
    'if command -v python3 >/dev/null 2>&1; then\n'
    ' echo "%(mark)s python3; missing:$m" >&2\n'
    ' exec python3 -c "$5" "$u" "$3"\n'
    'fi\n'
    'm="$m python3"\n'
    'if [ -z "$k" ] && command -v bash >/dev/null 2>&1; then\n'
    ' echo "%(mark)s bash; missing:$m" >&2\n'
    ' exec bash -c "$6" localhost "$1" "$2" "$3"\n'
    'fi\n'
    '[ -z "$k" ] && m="$m bash"\n'
    'echo "%(mark)s none; missing:$m" >&2\n'
    'exit 127\n'
) % {"mark": FOUND_MARK}


def probe_sh_argv(port: int, path: str, timeout: int, tls: bool) -> list[str]:
    """One exec that probes with the first tool the image has (see PROBE_SH)."""
    return ["sh", "-c", PROBE_SH, "probe", str(port), path, str(timeout), "https" if tls else "http",
            PYTHON_GET, BASH_DEVTCP_GET]


def tools_for(tls: bool) -> tuple[str, ...]:
    """The tools a probe may use, in order: bash's /dev/tcp speaks no TLS."""
    return tuple(t for t in TOOL_ORDER if not (tls and t == "bash"))


def split_found(stderr: str) -> tuple[str | None, list[str], str]:
    """PROBE_SH's first stderr line -> (the tool it ran or None, the tools it did not find, the
    rest of stderr, which is the tool's own). (None, [], stderr) when there is no such line."""
    first, nl, rest = stderr.partition("\n")
    if not first.startswith(FOUND_MARK):
        return None, [], stderr
    found, _, missing = first[len(FOUND_MARK):].partition("; missing:")
    tool = found.strip()
    return (tool if tool != "none" else ""), missing.split(), rest
