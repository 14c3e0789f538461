"""OCI answers are decoded straight into the read-only types (okedoctor.frozen.loads).

A fleet run's LB lists are tens of MB: the decoded bodies must be the very objects the checks
read (no second, frozen copy alive beside them), as read-only as a copy made by `freeze`, and
the strings they repeat (every node's OCID and address in every NLB's backends) one object each.
"""

from __future__ import annotations

import json

import pytest

from okedoctor.facts import Facts
from okedoctor.frozen import FrozenDict, FrozenList, ReadOnlyError, freeze, freeze_in_place, loads
from okedoctor.snapshot import Snapshot


def nlb(i: int, nodes: int) -> dict:
    return {"id": f"ocid1.networkloadbalancer.oc1..n{i}", "displayName": f"ns/svc{i}/uid{i}",
            "ipAddresses": [{"ipAddress": f"203.0.113.{i}", "isPublic": True}],
            "listeners": {"TCP-80": {"name": "TCP-80", "port": 80, "protocol": "TCP"}},
            "backendSets": {"TCP-80": {"backends": [
                {"name": f"10.0.10.{n}:30080", "ipAddress": f"10.0.10.{n}", "port": 30080 + i,
                 "targetId": f"ocid1.instance.oc1..node{n}", "weight": 1, "isDrain": False}
                for n in range(nodes)]}},
            "matrix": [[1, 2], [3, [4, {"deep": ["x"]}]]], "nothing": None, "ratio": 0.5}


PAGE = {"items": [nlb(i, 4) for i in range(3)]}


def containers(value):
    """Every dict and list in `value`, the top included."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from containers(v)
    elif isinstance(value, list):
        yield value
        for v in value:
            yield from containers(v)


@pytest.mark.parametrize("doc", [PAGE, PAGE["items"], [[1, [2]], {"a": []}], {}, [], "text", 3, None])
def test_the_decoded_answer_equals_json_loads_and_is_read_only_throughout(doc):
    text = json.dumps(doc)
    got = loads(text.encode())
    assert got == json.loads(text)
    assert json.dumps(got) == text  # key order and values as sent
    for c in containers(got):
        assert type(c) in (FrozenDict, FrozenList)


def test_a_check_cannot_change_a_decoded_body():
    body = loads(json.dumps(PAGE).encode())["items"][0]
    backend = body["backendSets"]["TCP-80"]["backends"][0]
    with pytest.raises(ReadOnlyError):
        backend["port"] = 1
    with pytest.raises(ReadOnlyError):
        body["backendSets"]["TCP-80"]["backends"].append({})
    with pytest.raises(ReadOnlyError):
        body["matrix"][1][1].pop()
    with pytest.raises(ReadOnlyError):
        body["matrix"][1][1][1]["deep"].clear()


def test_the_repeated_strings_of_a_list_are_one_object_each():
    items = loads(json.dumps(PAGE).encode())["items"]
    first = [b["targetId"] for b in items[0]["backendSets"]["TCP-80"]["backends"]]
    last = [b["targetId"] for b in items[2]["backendSets"]["TCP-80"]["backends"]]
    assert first == last and all(a is b for a, b in zip(first, last, strict=True))
    # ... and across answers: the instance list names the same OCIDs as the NLB list.
    again = loads(json.dumps({"id": "ocid1.instance.oc1..node0"}))
    assert again["id"] is first[0]


def test_facts_share_the_decoded_bodies_instead_of_copying_them():
    bodies = loads(json.dumps(PAGE).encode())["items"]
    facts = Facts(Snapshot(oci={"networkLoadBalancers": bodies}))
    assert all(a is b for a, b in zip(facts.oci["networkLoadBalancers"], bodies, strict=True))
    assert freeze(bodies[0]) is bodies[0]


def test_a_body_that_is_not_json_is_a_value_error():
    with pytest.raises(ValueError):
        loads(b"<html>sign in</html>")
    with pytest.raises(ValueError):
        loads(b"\xff\xfe{}")


def test_freezing_in_place_replaces_each_element_and_keeps_the_container():
    pods = [{"metadata": {"name": f"p{i}"}, "spec": {"containers": [{"name": "app"}]}} for i in range(3)]
    answers = {"ns/p0/app": {"localhost": [{"port": 80}]}, "ns/p1/app": "text"}
    keep_pods, keep_answers = pods, answers
    freeze_in_place(pods)
    freeze_in_place(answers)
    assert pods is keep_pods and answers is keep_answers and type(pods) is list and type(answers) is dict
    assert [p["metadata"]["name"] for p in pods] == ["p0", "p1", "p2"]
    assert all(type(p) is FrozenDict for p in pods) and type(answers["ns/p0/app"]["localhost"]) is FrozenList
    with pytest.raises(ReadOnlyError):
        pods[0]["spec"]["containers"][0]["name"] = "x"
    frozen = FrozenList([{"a": 1}])
    freeze_in_place(frozen)  # already read-only: left alone
    assert type(frozen[0]) is dict


def test_the_fleet_report_hands_its_collected_objects_to_the_checks_without_a_copy():
    from okedoctor.fleet.cli import frozen_handover

    snap = Snapshot(kubernetes=[{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}}],
                    oci={"networkLoadBalancers": [nlb(0, 2)]}, live={"containers": {"ns/p/app": {"a": [1]}}})
    frozen_handover(snap)
    facts = Facts(snap)
    assert facts.objects("Pod")[0] is snap.kubernetes[0]
    assert facts.oci["networkLoadBalancers"][0] is snap.oci["networkLoadBalancers"][0]
    assert facts.live["containers"]["ns/p/app"] is snap.live["containers"]["ns/p/app"]
