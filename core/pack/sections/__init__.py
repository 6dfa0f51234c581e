"""One compiler per pack section; each reads the merged tree and reports problems into the context."""
