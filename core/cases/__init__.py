"""Cases over the store: intake, actions, history, pinned pack versions and escalation workers."""
from .escalation import Claim, TickReport, claim_due, tick
from .service import (Case, CaseNotFound, ConcurrentUpdate, PackCache, Step, actions_for, act, get_case,
                      list_cases, open_case)
from .versions import VersionConflict, publish

__all__ = ["Case", "CaseNotFound", "Claim", "ConcurrentUpdate", "PackCache", "Step", "TickReport", "VersionConflict",
           "act", "actions_for", "claim_due", "get_case", "list_cases", "open_case", "publish", "tick"]
