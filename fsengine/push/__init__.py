"""Writing a run into BigQuery: flow.py tells the story (checks -> MERGE -> jobs ->
reconciliation); checks.py, merge.py and jobs.py hold each step; report.py what it did."""

from fsengine.push.flow import push, push_with_config
from fsengine.push.report import PushReport

__all__ = ["push", "push_with_config", "PushReport"]
