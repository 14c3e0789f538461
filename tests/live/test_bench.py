"""bench/diagnose.py runs and prints the figures the issue asks for."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_bench_prints_wall_time_requests_and_chain():
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "diagnose.py"), "--runs", "1", "--latency-ms", "20"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"wall time\s+\d+\.\d+ s", out)
    assert re.search(r"requests\s+kubernetes \d+, oci \d+, internet \d+", out)
    chain = int(re.search(r"longest chain\s+(\d+) dependent requests", out).group(1))
    assert 2 <= chain <= 5  # issue #15: at most five dependent round trips
    assert "verdict ok" in out


def _chain(*args: str, scenario: str = "healthy-ingress-nginx-url") -> int:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "diagnose.py"), scenario, *args,
                           "--runs", "1", "--latency-ms", "20"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return int(re.search(r"longest chain\s+(\d+) dependent requests", proc.stdout).group(1))


def test_a_url_costs_at_most_two_more_dependent_round_trips_than_its_service():
    """Issue #17: the walk (the lists, then the edge's pods) precedes the Services' collections."""
    url, service = _chain(), _chain("--service", "ingress-nginx/ingress-nginx-controller")
    assert service < url <= service + 2


def test_a_native_ingress_url_costs_at_most_two_more_than_its_backend_service():
    """The OCI Native Ingress Controller's walk: the lists, then the class's IngressClassParameters;
    the backend Service's collection reads the class's LB as --lb-ocid would."""
    native = "healthy-native-ingress-url"
    url, service = _chain(scenario=native), _chain("--service", "shop/storefront", scenario=native)
    assert service < url <= service + 2
