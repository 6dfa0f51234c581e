"""The case state machine over a pack's compiled ``workflow:`` (pure; no database). See docs/workflow.md."""
from .machine import (SYSTEM, Actor, CaseView, Outcome, WorkflowError, allowed_actions, apply, environment,
                      escalate, matches, workflow_of)

__all__ = ["SYSTEM", "Actor", "CaseView", "Outcome", "WorkflowError", "allowed_actions", "apply", "environment",
           "escalate", "matches", "workflow_of"]
