"""Schemathesis hooks for duban's CI: a refused request must append nothing.

Before and after every call the log head is read from /metrics; a response of 400 or more
whose call moved the head is a failure of the check `refused_requests_append_nothing`. The
run uses one worker, so calls do not overlap, and the notifier is off, so nothing else
appends.
"""

import os
import re
import urllib.request

import schemathesis

BASE = os.environ["DUBAN_BASE"]
_before = {}
_moved = {}


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
