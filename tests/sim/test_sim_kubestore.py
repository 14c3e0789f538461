"""Label and field selectors and pagination, as the API server applies them."""

from __future__ import annotations

import pytest

from okedoctor.sim.kubestore import BadRequest, Store, paginate, parse_label_selector


def pod(name: str, labels: dict[str, str], node: str = "n1", ns: str = "default") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"nodeName": node}, "status": {"phase": "Running"}}


STORE = Store.from_objects([pod("c", {"app": "web", "tier": "fe"}), pod("a", {"app": "api"}, "n2"),
                            pod("b", {"app": "web"}, ns="other")])
PODS = STORE.resource("", "v1", "pods")


def names(label: str = "", field: str = "", ns: str | None = None) -> list[str]:
    return [o["metadata"]["name"] for o in STORE.list(PODS, ns, label, field)]


@pytest.mark.parametrize(("selector", "expected"), [
    ("", ["a", "c", "b"]),  # etcd key order: namespace, then name
    ("app=web", ["c", "b"]), ("app==web", ["c", "b"]), ("app!=web", ["a"]),
    ("app in (web, api)", ["a", "c", "b"]), ("app notin (web)", ["a"]),
    ("tier", ["c"]), ("!tier", ["a", "b"]), ("app=web,!tier", ["b"]), ("tier!=fe", ["a", "b"]),
])
def test_label_selectors(selector, expected):
    assert names(selector) == expected


def test_field_selectors_and_namespaces():
    assert names(field="spec.nodeName=n2") == ["a"]
    assert names(field="metadata.namespace!=default") == ["b"]
    assert names(field="status.phase=Running,metadata.name=c", ns="default") == ["c"]
    assert names(ns="nowhere") == []  # a list in a namespace with nothing is empty, not 404
    with pytest.raises(BadRequest, match="field label not supported: spec.image"):
        names(field="spec.image=x")


def test_bad_label_selectors_are_400():
    for bad in ("app in (web", "app=we b", "=x"):
        with pytest.raises(BadRequest):
            parse_label_selector(bad)


def test_pagination_walks_every_item_once():
    items = [{"n": i} for i in range(5)]
    seen, token = [], None
    while True:
        page, token, remaining = paginate(items, "2", token, "7")
        seen += page
        if not token:
            break
        assert remaining == 5 - len(seen)
    assert seen == items
    with pytest.raises(BadRequest, match="continue key is not valid"):
        paginate(items, "2", "garbage!", "7")


def test_one_event_storage_served_by_both_event_apis():
    core_event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "default"},
                  "involvedObject": {"kind": "Pod", "name": "web-0"}, "message": "Back-off", "reason": "BackOff",
                  "count": 3, "source": {"component": "kubelet"}, "type": "Warning"}
    new_event = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e2", "namespace": "default"},
                 "regarding": {"kind": "Pod", "name": "web-1"}, "note": "Pulled", "reason": "Pulled",
                 "reportingController": "kubelet", "eventTime": "2026-01-01T00:00:00.000000Z", "type": "Normal"}
    store = Store.from_objects([core_event, new_event])
    core, events = store.resource("", "v1", "events"), store.resource("events.k8s.io", "v1", "events")
    assert [e["message"] for e in store.list(core, "default")] == ["Back-off", "Pulled"]
    (as_new,) = store.list(events, "default", field_selector="regarding.name=web-0")
    assert (as_new["note"], as_new["deprecatedCount"], as_new["deprecatedSource"]) == ("Back-off", 3,
                                                                                     {"component": "kubelet"})
    assert as_new["eventTime"] is None  # what the API server's conversion gives for a core Event
    (as_core,) = store.list(core, "default", field_selector="involvedObject.name=web-1")
    assert (as_core["reportingComponent"], as_core["involvedObject"]["kind"]) == ("kubelet", "Pod")
