"""Every JSON body the simulator returns validates against the official HWA 10.1.0.1 spec."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.live import LiveServer

SPEC_URI = "urn:hwa-rest-api-v2"


#: The spec declares polymorphic bases as ``oneOf`` without a discriminator while every branch
#: accepts any object of the base, so strict ``oneOf`` can never hold. The engine (Java/Jackson)
#: selects the branch by the type property; we validate the same way: the branch named by it.
POLYMORPHIC = {
    "DependencyInPlanV2": (
        "dependencyType",
        {
            "INTERNAL": "InternalDependencyInPlanV2",
            "EXTERNAL_JOB": "ExternalJobDependencyInPlanV2",
            "EXTERNAL_JOBSTREAM": "ExternalJobStreamDependencyInPlanV2",
            "JOIN": "JoinDependencyInPlanV2",
            "FILE": "FileDependencyInPlanV2",
            "INTERNETWORK": "InternetworkDependencyInPlanV2",
            "RESOURCE": "ResourceDependencyInPlanV2",
            "PROMPT": "PromptDependencyInPlanV2",
        },
    ),
    "FlowNodeInPlanV2": ("flowNodeType", {"JOB": "JobInPlanV2", "JOBSTREAM": "JobStreamInPlanV2"}),
}


def with_discriminators(spec: dict[str, Any]) -> dict[str, Any]:
    schemas = dict(spec["components"]["schemas"])
    for name, (prop, mapping) in POLYMORPHIC.items():
        base = dict(schemas[name])
        assert "oneOf" in base and "discriminator" not in base, f"the spec changed {name}: revisit"
        base.pop("oneOf")
        base["required"] = sorted({*base.get("required", []), prop})
        base["properties"] = {**base.get("properties", {}), prop: {"enum": sorted(mapping)}}
        base["allOf"] = [
            {
                "if": {"properties": {prop: {"const": value}}},
                "then": {"$ref": f"#/components/schemas/{branch}"},
            }
            for value, branch in mapping.items()
        ]
        schemas[name] = base
    return {**spec, "components": {**spec["components"], "schemas": schemas}}


@pytest.fixture(scope="module")
def validate(spec: dict[str, Any]) -> Any:
    resource = Resource.from_contents(with_discriminators(spec), default_specification=DRAFT202012)
    registry = Registry().with_resource(SPEC_URI, resource)

    def check(path: str, method: str, body: Any) -> None:
        operation = spec["paths"][path][method]
        content = operation["responses"]["200"]["content"]
        schema = next(iter(content.values()))["schema"]
        ref = schema["$ref"].replace("#", f"{SPEC_URI}#", 1)
        validator = Draft202012Validator(
            {"$ref": ref}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, f"{method.upper()} {path}: " + "; ".join(
            f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors[:5]
        )

    return check


V2 = "/twsd/api/v2"


def test_spec_file_is_the_official_one(spec: dict[str, Any]) -> None:
    assert spec["info"]["version"] == "10.1.0.1"
    assert f"{V2}/plan/job" in spec["paths"]


def test_read_endpoints_conform(sim: LiveServer, validate: Any) -> None:
    with httpx.Client(base_url=sim.url, auth=("viewer", "viewer"), timeout=30) as http:
        jobs = http.get(f"{V2}/plan/job", params={"limit": 400}).json()
        validate(f"{V2}/plan/job", "get", jobs)
        assert jobs["count"] == len(jobs["results"]) == 300
        page = http.get(f"{V2}/plan/job", params={"limit": 5, "offset": 5}).json()
        validate(f"{V2}/plan/job", "get", page)
        assert page["next"] and page["previous"]
        # every job detail (all states, every dependency kind)
        kinds: set[str] = set()
        for item in jobs["results"]:
            detail = http.get(f"{V2}/plan/job/{item['id']}").json()
            validate(f"{V2}/plan/job/{{job_id}}", "get", detail)
            kinds |= {d["dependencyType"] for d in detail.get("dependencies", [])}
        assert {"INTERNAL", "EXTERNAL_JOB"} <= kinds
        some = jobs["results"][150]["id"]
        for direction in ("predecessors", "successors"):
            body = http.get(f"{V2}/plan/job/{some}/{direction}", params={"depth": 3}).json()
            validate(f"{V2}/plan/job/{{job_id}}/{direction}", "get", body)
        validate(
            f"{V2}/plan/job/count",
            "get",
            http.get(f"{V2}/plan/job/count", params={"grouping_filters": "status,workstation"}).json(),
        )
        streams = http.get(f"{V2}/plan/jobstream").json()
        validate(f"{V2}/plan/jobstream", "get", streams)
        for stream in streams["results"][:20]:
            validate(
                f"{V2}/plan/jobstream/{{jobstream_id}}",
                "get",
                http.get(f"{V2}/plan/jobstream/{stream['id']}").json(),
            )
        stations = http.get(f"{V2}/plan/workstation").json()
        validate(f"{V2}/plan/workstation", "get", stations)
        for ws in stations["results"]:
            validate(
                f"{V2}/plan/workstation/{{workstation_id}}",
                "get",
                http.get(f"{V2}/plan/workstation/{ws['id']}").json(),
            )
        validate(f"{V2}/engine/info", "get", http.get(f"{V2}/engine/info").json())


def _job_id(http: httpx.Client, oql: str) -> dict[str, Any]:
    results = http.get(f"{V2}/plan/job", params={"oql": oql, "limit": 1}).json()["results"]
    assert results, oql
    return results[0]


def test_action_responses_conform(fresh_sim: LiveServer, validate: Any) -> None:
    with httpx.Client(base_url=fresh_sim.url, auth=("admin", "admin"), timeout=30) as http:
        waiting = _job_id(http, "jobruns.compositeStatus.status = 'HOLD' AND priority > 0")
        body = http.put(f"{V2}/plan/job/{waiting['id']}/action/hold").json()
        validate(f"{V2}/plan/job/{{job_id}}/action/hold", "put", body)
        body = http.put(f"{V2}/plan/job/{waiting['id']}/action/release-all-dependencies").json()
        validate(f"{V2}/plan/job/{{job_id}}/action/release-all-dependencies", "put", body)
        body = http.put(f"{V2}/plan/job/action/release", params={"oql": f"id = '{waiting['id']}'"}).json()
        validate(f"{V2}/plan/job/action/release", "put", body)
        failed = _job_id(http, "name = 'PAYROLL_NIGHTLY' ORDER BY schedTime DESC")
        body = http.put(f"{V2}/plan/job/run/{failed['jobruns'][-1]['id']}/action/rerun").json()
        validate(f"{V2}/plan/job/run/{{run_id}}/action/rerun", "put", body)
