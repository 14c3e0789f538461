"""What the commands typed into `kubectl exec` print in a simulated container (no servers needed)."""

from __future__ import annotations

import pytest

from okedoctor import probe_scripts as ps
from okedoctor.sim.shell import run_command

LIVE = {"tools": ["sh", "curl", "wget", "bash"],
        "localhost": {"8080": {"status": 200, "body": "ok"}, "8081": {"status": 500, "body": "boom"},
                      "9090": {"error": "refused"}, "9091": {"error": "timeout"}, "9092": {"error": "reset"}}}


@pytest.mark.parametrize(("argv", "stdout", "code"), [
    (["curl", "-s", "localhost:8080"], "ok", 0),
    (["curl", "-sS", "http://127.0.0.1:8080/healthz"], "ok", 0),
    (["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "localhost:8081"], "500", 0),
    (["curl", "-so", "/dev/null", "-w", r"%{http_code}\n", "localhost:8081"], "500\n", 0),
    (["curl", "-sf", "localhost:8081"], "", 22),
    (["curl", "-sI", "localhost:8081"], "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\n", 0),
    (["curl", "-s", "--max-time", "1", "localhost:9091"], "", 28),
    (["curl", "-s", "-w", "%{http_code}", "localhost:9090"], "000", 7),
    (["curl", "-s", "localhost:9092"], "", 56),
    (["curl", "-s", "localhost:7000"], "", 7),  # a port the file does not list has nothing listening
    (["wget", "-qO-", "http://localhost:8080/"], "ok", 0),
    (["wget", "-q", "-O", "-", "localhost:8081"], "", 1),
    (["sh", "-c", "curl -s -o /dev/null -w '%{http_code}' localhost:8080"], "200", 0),
    (["sh", "-c", "exit 3"], "", 3),
])
def test_commands(argv, stdout, code):
    res = run_command(argv, LIVE)
    assert (res.stdout, res.exit_code, res.runtime_error) == (stdout, code, None)


def test_curl_messages_follow_silent_and_show_error():
    assert run_command(["curl", "-s", "localhost:9090"], LIVE).stderr == ""
    assert run_command(["curl", "-sS", "localhost:9090"], LIVE).stderr.startswith(
        "curl: (7) Failed to connect to localhost port 9090")
    assert run_command(["curl", "-sSf", "localhost:8081"], LIVE).stderr == \
        "curl: (22) The requested URL returned error: 500\n"
    # Without -s, curl prints its progress meter to stderr (stdout is not a terminal under exec).
    assert "% Total" in run_command(["curl", "localhost:8080"], LIVE).stderr


def test_timeouts_cost_at_most_a_second_but_keep_the_exit_code():
    res = run_command(ps.curl_argv("http://localhost:9091/", 5), LIVE)
    assert (res.exit_code, res.delay) == (28, 1.0)
    assert "Operation timed out after 5000 milliseconds" in res.stderr
    res = run_command(["wget", "-T", "0.2", "-qO-", "localhost:9091"], LIVE)
    assert (res.exit_code, res.delay, res.stderr) == (1, 0.2, "wget: download timed out\n")


def test_wget_server_response_goes_to_stderr():
    res = run_command(ps.wget_argv("http://localhost:8081/", 2), LIVE)
    assert res.exit_code == 1 and res.stdout == ""
    assert res.stderr.startswith("  HTTP/1.1 500 Internal Server Error\n")
    assert res.stderr.endswith("wget: server returned error: HTTP/1.1 500 Internal Server Error\n")


def test_probe_scripts_are_matched_exactly():
    live = {**LIVE, "tools": ["bash", "python3"]}
    assert run_command(ps.bash_argv("localhost", 8081, "/", 2), live).stdout == "boom\n500\n"
    assert run_command(ps.bash_argv("localhost", 9092, "/", 2), live).exit_code == ps.EXIT_TIMEOUT
    assert run_command(ps.python_argv("http://localhost:9092/", 2), live).exit_code == ps.EXIT_RESET
    long = {**live, "localhost": {"80": {"status": 200, "body": "x" * 1000}}}
    assert run_command(ps.python_argv("http://localhost/", 2), long).stdout == "x" * ps.BODY_LIMIT + "\n200\n"
    changed = ["python3", "-c", ps.PYTHON_GET + "# edited", "http://localhost:8080/", "2"]
    assert "not modelled" in run_command(changed, live).stderr


def test_missing_executables_fail_in_the_runtime():
    res = run_command(["python3", "-c", "print(1)"], LIVE)
    assert res.runtime_error == ("OCI runtime exec failed: exec failed: unable to start container process: "
                                 'exec: "python3": executable file not found in $PATH: unknown')
    assert "stat /bin/bash: no such file" in run_command(["/bin/bash"], {"tools": []}).runtime_error
    # `sh -c` needs sh, and then the tool it runs.
    assert run_command(["sh", "-c", "curl -s localhost:8080"], {"tools": []}).runtime_error
    assert 'exec: "curl"' in run_command(["sh", "-c", "curl -s localhost:8080"], {"tools": ["sh"]}).runtime_error
    # No `tools` key: the common image with sh, curl and wget.
    assert run_command(["curl", "-s", "localhost:8080"], {"localhost": LIVE["localhost"]}).stdout == "ok"


def test_what_the_file_cannot_answer_is_refused_clearly():
    for argv in (["cat", "/etc/resolv.conf"], ["sh", "-c", "env | grep PORT"],
                 ["curl", "-s", "http://10.96.0.1/"], ["curl", "-s", "-X", "POST", "localhost:8080"]):
        res = run_command(argv, {**LIVE, "tools": ["sh", "curl", "cat"]})
        assert res.exit_code == 1 and "okedoctor sim:" in res.stderr and "not modelled" in res.stderr
    res = run_command(["curl", "-s", "localhost:8080"], {"tools": ["curl"]})
    assert "no live `localhost` entry" in res.stderr
    # A snapshot may record an error text the probe saw; it cannot be replayed as a socket state.
    res = run_command(["curl", "-s", "localhost:8080"], {"localhost": {"8080": {"error": "exit 35"}}})
    assert res.exit_code == 1 and "cannot be replayed" in res.stderr


GO_400 = {"status": 400, "body": "Client sent an HTTP request to an HTTPS server.\n"}
TLS = {"tools": ["sh", "curl", "wget", "python3"],
       "localhost": {"443": {"status": 404, "body": "nf", "tls": True},
                     "8443": {"status": 200, "body": "ok", "tls": True, "plainHttp": GO_400},
                     "8080": {"status": 200, "body": "ok"}}}


@pytest.mark.parametrize(("argv", "stdout", "code"), [
    (ps.curl_argv("https://localhost:443/", 2), "nf\n404\n", 0),             # the probe's form: -k
    (["curl", "-s", "https://localhost:443/"], "", 60),                       # the pod's certificate is not verified
    (["curl", "-s", "http://localhost:443/"], "", 56),                        # plain HTTP to TLS: reset by default
    (["curl", "-s", "http://localhost:8443/"], "Client sent an HTTP request to an HTTPS server.\n", 0),
    (["curl", "-sk", "https://localhost:8080/"], "", 35),                     # TLS to a plain port: no handshake
    (ps.python_argv("https://localhost:8443/", 2), "ok\n200\n", 0),
    (ps.python_argv("https://localhost:8080/", 2), "", ps.EXIT_RESET),
])
def test_a_port_recorded_with_tls_speaks_tls(argv, stdout, code):
    res = run_command(argv, TLS)
    assert (res.stdout, res.exit_code) == (stdout, code)


def test_wget_probes_tls_without_checking_the_certificate():
    res = run_command(ps.wget_argv("https://localhost:443/", 2), TLS)
    assert "--no-check-certificate" in ps.wget_argv("https://localhost:443/", 2)
    assert "HTTP/1.1 404" in res.stderr  # the status the probe reads; busybox prints no body on a 4xx


@pytest.mark.parametrize("tools", [["sh", "curl", "wget"], ["sh", "wget"], ["sh", "python3"], ["sh", "bash"]])
@pytest.mark.parametrize(("port", "tls"), [(8080, False), (8081, False), (9090, False), (9091, False),
                                           (9092, False), (443, True), (8443, False)])
def test_the_one_exec_script_answers_as_the_tool_it_picks(tools, port, tls):
    """PROBE_SH runs the first tool the image has: the same answer, reset, timeout or status as that tool alone."""
    from okedoctor.live.probe import ExecResult as Seen
    from okedoctor.live.probe import argv_for, parse_probe

    live = {"tools": tools, "localhost": {**LIVE["localhost"], **TLS["localhost"]}}
    res = run_command(ps.probe_sh_argv(port, "/", 2, tls), live)
    tool, missing, stderr = ps.split_found(res.stderr)
    usable = ps.tools_for(tls)
    want = next((t for t in usable if t in tools), "")
    assert tool == want and missing == list(usable[:usable.index(want)] if want else usable)
    if not want:
        assert res.exit_code == 127
        return
    alone = run_command(argv_for(want, port, "/", 2, tls), live)
    assert (res.stdout, stderr, res.exit_code, res.delay) == (alone.stdout, alone.stderr, alone.exit_code, alone.delay)

    def seen(r, err):
        return Seen(r.stdout, err, None if r.exit_code == 0 else
                    {"status": "Failure", "details": {"causes": [{"reason": "ExitCode", "message": str(r.exit_code)}]}})
    assert parse_probe(want, seen(res, stderr)) == parse_probe(want, seen(alone, alone.stderr))


def test_the_one_exec_script_needs_sh_and_says_when_no_tool_is_there():
    assert "sh" in run_command(ps.probe_sh_argv(8080, "/", 2, False), {"tools": ["curl"]}).runtime_error
    res = run_command(ps.probe_sh_argv(8080, "/", 2, False), {"tools": ["sh"]})
    assert res.exit_code == 127 and ps.split_found(res.stderr)[:2] == ("", ["curl", "wget", "python3", "bash"])
    # bash's /dev/tcp speaks no TLS: on https it is neither used nor reported missing
    res = run_command(ps.probe_sh_argv(443, "/", 2, True), {"tools": ["sh", "bash"]})
    assert ps.split_found(res.stderr)[:2] == ("", ["curl", "wget", "python3"])
