"""The OCI side of live collection: auth as the oci CLI does it, and raw camelCase reads.

Bodies are read as the bytes the server sent (`response_type="bytes"`) and parsed with
`frozen.loads` (read-only from the start), so the snapshot holds the REST API's camelCase JSON, not the SDK's snake_case
models. `oci` is imported lazily and only the four service modules we read are touched.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import os
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from okedoctor import frozen
from okedoctor.errors import UsageError
from okedoctor.oci_catalog import SERVICES as OCI_SERVICES
from okedoctor.options import AUTH_TYPES

# service -> (module, client class), and the IAM resource family its reads need (docs/oci-iam.md)
SERVICES = {k: (s.module, s.client) for k, s in OCI_SERVICES.items()}
IAM_FAMILY = {k: s.iam_family for k, s in OCI_SERVICES.items()}


class OciDenied(Exception):  # noqa: N818 - a result kind, carried up to the collector
    def __init__(self, service: str, status: int, code: str | None, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.service, self.status, self.code = service, status, code


class OciUnavailable(Exception):  # noqa: N818
    pass


class OciNotFound(Exception):  # noqa: N818
    pass


@dataclass
class OciSetup:
    """What `--auth/--profile/--config-file` resolved to, before any request."""

    auth: str
    config: dict[str, Any] = field(default_factory=dict)
    signer: Any = None
    profile: str | None = None
    config_file: str | None = None
    region: str | None = None

    def principal(self, cluster: str | None = None) -> str:
        """The subject of an IAM policy statement for this kind of caller."""
        if self.auth == "instance_principal":
            return "dynamic-group <dynamic-group-of-this-instance>"
        if self.auth in ("resource_principal", "oke_workload_identity"):
            return "any-user"
        return "group <your-group>"

    def statement(self, service: str, compartment: str | None, cluster: str | None = None) -> str:
        where = f"compartment id {compartment}" if compartment else "compartment <cluster-compartment>"
        text = f"Allow {self.principal()} to read {IAM_FAMILY[service]} in {where}"
        if self.auth == "oke_workload_identity":
            text += (" where all {request.principal.type = 'workload', request.principal.namespace = 'okedoctor', "
                     "request.principal.service_account = 'okedoctor', "
                     f"request.principal.cluster_id = '{cluster or '<cluster-ocid>'}'}}")
        return text


class OciDisabled(Exception):  # noqa: N818 - no OCI config at all: OCI facts are switched off
    pass


def resolve_auth(opts_auth: str | None) -> str:
    auth = opts_auth or os.environ.get("OCI_CLI_AUTH") or "api_key"
    if auth not in AUTH_TYPES:
        raise UsageError(f"unknown --auth {auth!r}; one of {', '.join(AUTH_TYPES)}")
    return auth


FIPS_LIBCRYPTO_ENV = ("FIPS_LIBCRYPTO_PATH", "OCI_PYTHON_SDK_FIPS_LIBCRYPTO_PATH")


def lean_oci() -> None:
    """Let the oci SDK's modules load without the package's __init__, and without PKCS#11.

    The __init__ imports pagination, the waiter and its service models, none of which a read
    uses; `oci.auth.signers` imports the PKCS#11 (smart card) signer, and with it python-pkcs11
    and asn1crypto, for an auth okedoctor does not offer. Together about 0.15 s of CPU, on the
    OCI setup that the LB lookup waits for (issue #15). The package is registered as its real
    path with an attribute hook that loads any submodule on first use (`oci.auth`, `oci.regions`
    ...), as `lean_kubernetes` does; the SDK treats a missing pkcs11 as not installed. What the
    __init__ does besides imports, FIPS mode, is done when its environment asks for it. A
    package already imported is left as it is.
    """
    import importlib
    import importlib.util
    import sys
    import types

    if "oci" in sys.modules:
        return
    spec = importlib.util.find_spec("oci")
    if spec is None or not spec.submodule_search_locations:
        return  # not installed: the import says so in its own words
    pkg = types.ModuleType("oci")
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__spec__, pkg.__file__, pkg.__package__ = spec, spec.origin, "oci"

    def attribute(name: str):
        if name == "__version__":
            return importlib.import_module("oci.version").__version__
        if name.startswith("__"):
            raise AttributeError(name)
        return importlib.import_module(f"oci.{name}")

    pkg.__getattr__ = attribute  # type: ignore[method-assign]
    sys.modules["oci"] = pkg
    sys.modules.setdefault("pkcs11", None)  # type: ignore[arg-type] - `import pkcs11` raises ImportError
    if any(os.environ.get(name) for name in FIPS_LIBCRYPTO_ENV):
        importlib.import_module("oci.fips").enable_fips_mode()


def load_setup(*, auth: str | None, profile: str | None, config_file: str | None, region: str | None) -> OciSetup:
    """Read the OCI config like the oci CLI. Raises OciDisabled when there is no config at all."""
    lean_oci()
    auth = resolve_auth(auth)
    profile = profile or os.environ.get("OCI_CLI_PROFILE") or "DEFAULT"
    explicit_file = config_file or os.environ.get("OCI_CLI_CONFIG_FILE")
    path = os.path.expanduser(explicit_file or os.path.join("~", ".oci", "config"))
    setup = OciSetup(auth=auth, profile=profile, config_file=path, region=region)
    if auth in ("api_key", "security_token"):
        if not os.path.isfile(path):
            if explicit_file:
                raise UsageError(f"OCI config file not found: {path} (check --config-file / OCI_CLI_CONFIG_FILE)")
            raise OciDisabled(f"no OCI config at {path}: run `oci setup config`, pass --config-file/--profile, "
                              "or --auth instance_principal; the load balancer and network checks need it")
        _load_file_config(setup)
    setup.region = region or setup.config.get("region") or os.environ.get("OCI_CLI_REGION") or None
    return setup


CONFIG_FIX = "fix it with `oci setup config`, or pass --config-file/--profile"


def _read_profile(setup: OciSetup) -> dict[str, str]:
    """The profile's raw keys, parsed as the oci CLI does; a file it cannot parse is bad input."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(setup.config_file, encoding="utf-8") as fh:
            parser.read_file(fh)
    except configparser.MissingSectionHeaderError as exc:
        raise UsageError(f"OCI config {setup.config_file} has no [PROFILE] header before line {exc.lineno} "
                         f"(the oci CLI expects [DEFAULT] first); {CONFIG_FIX}") from None
    except configparser.Error as exc:
        problem = " ".join(str(exc).split())[:200]
        raise UsageError(f"OCI config {setup.config_file} cannot be parsed: {problem}; {CONFIG_FIX}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read OCI config {setup.config_file}: {exc}; pass --config-file") from None
    profiles = (["DEFAULT"] if parser.defaults() else []) + parser.sections()
    if setup.profile not in profiles:
        raise UsageError(f"OCI profile {setup.profile!r} is not in {setup.config_file} "
                         f"(profiles: {', '.join(profiles) or 'none'}); pass --profile with one of them, "
                         "or --config-file for another file") from None
    return dict(parser[setup.profile])


def _config_problem(setup: OciSetup, exc: Exception) -> str:
    """`{'user': 'missing'}` from the SDK as a sentence that names the profile and the keys."""
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, dict):
        detail = ", ".join(f"{key} is {state}" for key, state in detail.items())
    detail = " ".join(str(detail).split())[:200]
    return f"OCI config {setup.config_file} [{setup.profile}]: {detail}; {CONFIG_FIX}"


def _load_file_config(setup: OciSetup) -> None:
    import oci

    raw = _read_profile(setup)
    key_file = raw.get("key_file")
    if key_file and not os.path.isfile(os.path.expanduser(key_file)):
        raise UsageError(f"OCI config {setup.config_file} [{setup.profile}]: key_file {key_file} does not exist; "
                         f"point key_file at your API private key, {CONFIG_FIX}")
    try:
        cfg = oci.config.from_file(setup.config_file, setup.profile)
    except (oci.exceptions.ClientError, OSError, ValueError) as exc:
        raise UsageError(_config_problem(setup, exc)) from None
    setup.config = cfg
    if setup.auth == "security_token":
        setup.signer = _security_token_signer(setup)
    else:
        try:
            oci.config.validate_config(cfg)
            # One signer for every client: loading the private key costs ~0.1 s per client otherwise.
            setup.signer = oci.signer.Signer(
                tenancy=cfg["tenancy"], user=cfg["user"], fingerprint=cfg["fingerprint"],
                private_key_file_location=cfg.get("key_file"), pass_phrase=cfg.get("pass_phrase"),
                private_key_content=cfg.get("key_content"))
        except oci.exceptions.InvalidConfig as exc:
            raise UsageError(_config_problem(setup, exc)) from None
        except (oci.exceptions.ClientError, OSError, ValueError, TypeError) as exc:
            raise UsageError(f"cannot load the API key {cfg.get('key_file')} of OCI profile {setup.profile!r} "
                             f"in {setup.config_file}: {_first_line(exc)}; {CONFIG_FIX}") from None


def _security_token_signer(setup: OciSetup):
    import oci

    cfg = setup.config
    token_file = cfg.get("security_token_file")
    if not token_file:
        raise UsageError(f"OCI profile {setup.profile!r} in {setup.config_file} has no security_token_file; "
                         f"run `oci session authenticate --profile-name {setup.profile}`, or pass --auth api_key")
    token_file = os.path.expanduser(token_file)
    try:
        with open(token_file, encoding="utf-8") as fh:
            token = fh.read().strip()
        key = oci.signer.load_private_key_from_file(cfg["key_file"], cfg.get("pass_phrase"))
    except (OSError, KeyError, ValueError) as exc:
        raise UsageError(f"cannot read the OCI session of profile {setup.profile!r} in {setup.config_file}: "
                         f"{_first_line(exc)}; run `oci session authenticate`") from None
    refresh = f"run `oci session refresh --profile {setup.profile}` or `oci session authenticate`"
    exp = _token_expiry(token)
    if exp is None:
        raise UsageError(f"{token_file} does not hold an OCI session token; {refresh}")
    if exp <= time.time():
        when = datetime.datetime.fromtimestamp(exp, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        raise UsageError(f"OCI session token in {token_file} expired at {when}; {refresh}")
    return oci.auth.signers.SecurityTokenSigner(token, key)


def _token_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT (seconds since the epoch), read without verifying it: None if malformed."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        exp = float(claims["exp"])
    except (ValueError, TypeError, KeyError):
        return None
    return exp if 0 <= exp < 1e11 else None  # beyond that no datetime can print it


PRINCIPAL_AUTHS = ("instance_principal", "resource_principal", "oke_workload_identity")


def is_loopback_endpoint(endpoint: str | None) -> bool:
    """True when the OCI endpoint override is this machine (the simulator), by address, never by DNS."""
    if not endpoint:
        return False
    host = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_unspecified


def refuse_principal_on_loopback(auth: str, endpoint: str | None) -> None:
    """Principal signers call 169.254.169.254 or the region's auth service as they are built: that is
    right against OCI, but never wanted against a local endpoint, which only checks API-key signatures."""
    if auth in PRINCIPAL_AUTHS and is_loopback_endpoint(endpoint):
        raise UsageError(f"--auth {auth} cannot be used with the local OCI endpoint {endpoint} (the simulator "
                         "accepts API-key signatures only); use --auth api_key, or unset "
                         "OKEDOCTOR_OCI_ENDPOINT/--oci-endpoint to talk to OCI")


def principal_signer(setup: OciSetup, endpoint: str | None = None):
    """Signers that call a metadata or token service in their constructor: built in a worker."""
    import oci

    refuse_principal_on_loopback(setup.auth, endpoint or os.environ.get("OKEDOCTOR_OCI_ENDPOINT"))
    signers = oci.auth.signers
    if setup.auth == "instance_principal":
        return signers.InstancePrincipalsSecurityTokenSigner()
    if setup.auth == "resource_principal":
        return signers.get_resource_principals_signer()
    if setup.auth == "oke_workload_identity":
        return signers.get_oke_workload_identity_resource_principal_signer()
    return None


class OciReader:
    """GETs against the OCI REST APIs, returning parsed JSON. One client per thread and service."""

    def __init__(self, setup: OciSetup, *, region: str | None, endpoint: str | None, timeout: float,
                 on_request=None):
        self.setup = setup
        self.on_request = on_request or (lambda: None)
        self.region = region
        self.endpoint = endpoint or os.environ.get("OKEDOCTOR_OCI_ENDPOINT") or None
        self.timeout = timeout
        self._local = threading.local()
        self._retry = None

    def _client(self, service: str):
        clients = self._local.__dict__.setdefault("clients", {})
        if service not in clients:
            clients[service] = self._make_client(service)
        return clients[service]

    def _make_client(self, service: str):
        """The SDK's BaseClient for one service, built with what its client class would give it
        (oci_catalog), so the service's models are never imported: every read asks for bytes."""
        import oci
        from oci.base_client import BaseClient
        from oci.developer_tool_configuration import OCI_SDK_ENABLED_SERVICES_SET

        svc = OCI_SERVICES[service]
        if self.setup.signer is None or not OCI_SDK_ENABLED_SERVICES_SET.is_service_enabled(svc.sdk_name):
            # a signer only the client class knows how to build, or a service the developer tool
            # configuration disables: the client class says so in its own words
            return self._service_client(service).base_client
        cfg = dict(self.setup.config)
        if self.region:
            cfg["region"] = self.region
        oci.config.validate_config(cfg, signer=self.setup.signer)
        kwargs: dict[str, Any] = {
            "regional_client": True, "service_endpoint": self.endpoint, "base_path": f"/{svc.version}",
            "service_endpoint_template": svc.endpoint_template, "service_endpoint_template_per_realm": {},
            "service_uses_dualstack_endpoints_by_default": False, "skip_deserialization": False,
            # The SDK's default breaker is one process-wide object shared by every client:
            # ten failures anywhere would silence all OCI reads for 30 s.
            "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
            "client_level_realm_specific_endpoint_template_enabled": None,
            "client_level_dualstack_endpoints_enabled": None,
            "timeout": (min(5.0, self.timeout), self.timeout),
        }
        if svc.endpoint_service_name:
            kwargs["endpoint_service_name"] = svc.endpoint_service_name
        client = BaseClient(svc.sdk_name, cfg, self.setup.signer, {}, **kwargs)
        # The OCI APIs never redirect a read; following one (requests does by default) would send
        # the signed request to whatever host a proxy or a hijacked endpoint names.
        client.session.max_redirects = 0
        return client

    def _service_client(self, service: str):
        import importlib

        import oci

        module, cls = SERVICES[service]
        klass = getattr(importlib.import_module(module), cls)
        cfg = dict(self.setup.config)
        if self.region:
            cfg["region"] = self.region
        kwargs: dict[str, Any] = {
            "circuit_breaker_strategy": oci.circuit_breaker.NoCircuitBreakerStrategy(),
            "retry_strategy": oci.retry.NoneRetryStrategy(),
            "timeout": (min(5.0, self.timeout), self.timeout),
        }
        if self.endpoint:
            kwargs["service_endpoint"] = self.endpoint
        client = klass(cfg, **kwargs)
        client.base_client.session.max_redirects = 0
        return client

    def _retry_strategy(self):
        if self._retry is None:
            import oci

            self._retry = oci.retry.RetryStrategyBuilder(
                max_attempts_check=True, max_attempts=3,
                total_elapsed_time_check=True, total_elapsed_time_seconds=max(1, int(self.timeout)),
                retry_max_wait_between_calls_seconds=1, retry_base_sleep_time_seconds=0.2,
                service_error_check=True, service_error_retry_on_any_5xx=True,
                backoff_type=oci.retry.BACKOFF_FULL_JITTER_VALUE,
            ).get_retry_strategy()
        return self._retry

    def get(self, service: str, path: str, path_params: dict[str, str] | None = None,
            query: dict[str, Any] | None = None) -> tuple[Any, dict[str, str]]:
        import oci

        client = self._client(service)

        def attempt(**kw):
            self.on_request()  # every attempt is a request: retries count too
            return client.call_api(**kw)

        try:
            resp = self._retry_strategy().make_retrying_call(
                attempt,
                resource_path=path, method="GET", path_params=path_params or {},
                query_params={k: v for k, v in (query or {}).items() if v is not None},
                header_params={"accept": "application/json", "content-type": "application/json"},
                response_type="bytes",
            )
        except oci.exceptions.ServiceError as exc:
            if exc.status in (401, 403) or (exc.status == 404 and exc.code == "NotAuthorizedOrNotFound"):
                raise OciDenied(service, exc.status, exc.code, exc.message) from None
            if exc.status == 404:
                raise OciNotFound(f"{path}: {exc.message}") from None
            raise OciUnavailable(f"OCI answered {exc.status} {exc.code or ''} to GET {path}".strip()) from None
        except (oci.exceptions.RequestException, oci.exceptions.ConnectTimeout) as exc:
            if "redirects" in str(exc):
                raise OciUnavailable(f"OCI answered GET {path} with a redirect, which is not followed: an API read "
                                     "is never redirected (a proxy or a wrong endpoint?)") from None
            raise OciUnavailable(f"OCI API unreachable for GET {path}: {_first_line(exc)}") from None
        try:
            body = frozen.loads(resp.data) if resp.data else None
        except ValueError:  # a proxy's sign-in page or a garbled answer, with a 200
            raise OciUnavailable(f"OCI answered GET {path} with a body that is not JSON "
                                 "(a proxy in front of the API?)") from None
        return body, dict(resp.headers or {})

    def list_all(self, service: str, path: str, path_params: dict[str, str] | None = None,
                 query: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a list call, following opc-next-page. Handles bare arrays and {items: []}."""
        items: list[Any] = []
        query = dict(query or {})
        while True:
            body, headers = self.get(service, path, path_params, query)
            items.extend(body.get("items", []) if isinstance(body, dict) else body or [])
            page = headers.get("opc-next-page")
            if not page:
                return items
            query["page"] = page


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
