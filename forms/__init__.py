"""wangge.forms — forms declared in packs: validated on the server (cerberus + the expression language),
stored with the version they were filled under, rendered with Jinja2, authored in Excel (XLSForm).

See docs/forms.md."""
from .app import FormsConfig, forms_app, forms_routes
from .store import FileStore, Submission, SubmissionStore
from .validate import Outcome, Validation

__all__ = ["FileStore", "FormsConfig", "Outcome", "Submission", "SubmissionStore", "Validation", "forms_app",
           "forms_routes"]
