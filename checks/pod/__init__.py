"""Checks of the pod hop."""

MODULES: tuple[str, ...] = (
    "service_selects_no_pod",
    "endpoints_not_ready",
    "target_port_not_exposed",
    "port_target_port_swapped",
    "readiness_probe_port_mismatch",
    "pod_crashloop",
    "secret_env_file_shape",
    "image_pull_failure",
    "container_config_error",
    "oom_killed",
    "app_5xx_on_localhost",
    "nothing_listens_on_target_port",
    "app_timeout_on_localhost",
    "readiness_probe_failing",
    "app_listens_on_loopback",
    "pod_unschedulable",
    "rollout_no_room_for_surge",
    "pvc_rwx_on_block_volume",
    "env_key_ref_missing",
    "readiness_gate_unmet",
)
