"""The Kubernetes objects of every shipped scenario are ones the Kubernetes client's models accept.

Scenarios stand for what a real API server returns; the pydantic models of the kubernetes
client are a cheap proof that every object has the fields, types and required keys the API
would give it (a container without a name, a port as a list... are rejected).
"""

from __future__ import annotations

import json

import pytest

from okedoctor.snapshot import load_snapshot
from tests.conftest import scenario_paths

MODELS = {
    ("v1", "Pod"): "V1Pod", ("v1", "Service"): "V1Service", ("v1", "Node"): "V1Node",
    ("v1", "Endpoints"): "V1Endpoints", ("discovery.k8s.io/v1", "EndpointSlice"): "V1EndpointSlice",
    ("v1", "Event"): "CoreV1Event", ("events.k8s.io/v1", "Event"): "EventsV1Event",
    ("apps/v1", "Deployment"): "V1Deployment", ("apps/v1", "ReplicaSet"): "V1ReplicaSet",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim", ("storage.k8s.io/v1", "StorageClass"): "V1StorageClass",
    ("v1", "Secret"): "V1Secret", ("v1", "ConfigMap"): "V1ConfigMap", ("v1", "Namespace"): "V1Namespace",
}


@pytest.mark.parametrize("path", scenario_paths(), ids=lambda p: p.stem)
def test_objects_deserialize(path):
    from kubernetes.client import ApiClient

    api = ApiClient()
    for obj in load_snapshot(path).kubernetes:
        model = MODELS.get((obj["apiVersion"], obj["kind"]))
        if model is None:
            continue  # a kind this test does not know: the scenario test still reads it
        try:
            api.deserialize(json.dumps(obj), model, "application/json")
        except Exception as exc:  # the message names the field
            pytest.fail(f"{obj['kind']} {obj['metadata'].get('name')}: {str(exc).splitlines()[0:3]}")
