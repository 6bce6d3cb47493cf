"""Schemathesis hooks for duban's CI.

A refused request must append nothing: before and after every call the log head is read from
/metrics, and a response of 400 or more whose call moved the head fails the check
`refused_requests_append_nothing`. The run uses one worker, so calls do not overlap, and the
notifier is off, so nothing else appends.

Random ids only ever meet 404, so half of the generated calls get the id of a project the
caller can see (and one of its milestones) instead: the rules behind the 404 get fuzzed too.
"""

import json
import os
import random
import re
import urllib.request

import schemathesis

BASE = os.environ["DUBAN_BASE"]
_before = {}
_moved = {}


def _get(path):
    request = urllib.request.Request(
        BASE + path, headers={"Authorization": "Bearer " + os.environ["DUBAN_TOKEN"]}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


def _known_ids():
    """(project id, [milestone ids]) of up to 20 projects the caller sees."""
    page = _get("/api/v1/projects?per_page=20")
    known = []
    for item in page["items"]:
        status = _get("/api/v1/projects/" + item["project_id"])
        known.append((item["project_id"], [m["milestone_id"] for m in status["milestones"]]))
    return known


_KNOWN = _known_ids()
if not _KNOWN:
    raise RuntimeError("the caller sees no project: import the plan first")
_rng = random.Random(17)


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if not path_parameters or "id" not in path_parameters or _rng.random() < 0.5:
        return path_parameters
    project, milestones = _rng.choice(_KNOWN)
    path_parameters["id"] = project
    if "mid" in path_parameters and milestones:
        path_parameters["mid"] = _rng.choice(milestones)
    return path_parameters


def log_head():
    with urllib.request.urlopen(BASE + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    found = re.search(r"^duban_log_head_seq (\d+)$", text, re.M)
    if found is None:
        raise RuntimeError("/metrics does not export duban_log_head_seq")
    return int(found.group(1))


@schemathesis.hook
def before_call(context, case, **kwargs):
    _before[id(case)] = log_head()


@schemathesis.hook
def after_call(context, case, response):
    before = _before.pop(id(case), None)
    after = log_head()
    if before is not None and after != before:
        _moved[id(response)] = (before, after)


@schemathesis.check
def refused_requests_append_nothing(ctx, response, case):
    moved = _moved.pop(id(response), None)
    if response.status_code >= 400 and moved is not None:
        raise AssertionError(
            f"refused with {response.status_code}, yet the log head moved "
            f"from {moved[0]} to {moved[1]}"
        )


# What the service answers when it cannot parse a request; a request the document calls valid
# must never get one of these (business rules, a department outside the directory, a date
# outside the calendar or a position beyond the log head may still refuse it).
PARSE_REFUSALS = {
    "/problems/malformed-request",
    "/problems/invalid-value",
    "/problems/invalid-text",
    "/problems/field-required",
    "/problems/invalid-query",
    "/problems/unknown-query-parameter",
    "/problems/percent-out-of-range",
}


@schemathesis.check
def schema_valid_requests_are_parsed(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    try:
        kind = response.json().get("type")
    except ValueError:
        return None
    if kind in PARSE_REFUSALS:
        raise AssertionError(
            f"a request the document calls valid was refused as unparsable: {response.text}"
        )
    return None
