"""Signed webhooks: HMAC-SHA256 over ``timestamp.body``, POSTed by the outbox with retries.

Headers sent with every request (receivers check them with :func:`verify`)::

    X-Wangge-Timestamp: 1767225600               # Unix seconds when this attempt was signed
    X-Wangge-Signature: sha256=<hex>             # HMAC-SHA256(secret, f"{timestamp}.".encode() + body)
    X-Wangge-Delivery:  <outbox message id>      # the same on every retry: receivers deduplicate by it
    X-Wangge-Event:     <kind>                   # webhook, hotline_reply …

Signing the timestamp with the body lets a receiver refuse replays older than its tolerance; a retry is
signed afresh, so a message delayed by backoff is still accepted.

Pack settings (``plugins: [{id: webhook, settings: {...}}]``):

- ``secret_env`` — the environment variable holding the shared secret (preferred: keep secrets out of
  packs), or ``secret`` — the secret itself;
- ``timeout`` — seconds per HTTP request (default 10);
- ``urls`` — receivers notified of every case change (optional); ``actions`` — only these actions.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wangge.core.hooks import HookContext, OutboxMessage, OutboxRequest, hookimpl

NAME = "webhook"
KIND = "webhook"
SIGNATURE = "X-Wangge-Signature"
TIMESTAMP = "X-Wangge-Timestamp"
DELIVERY = "X-Wangge-Delivery"
EVENT = "X-Wangge-Event"
DEFAULT_TOLERANCE = 300  # seconds a signature stays valid


class SettingsError(ValueError):
    """Settings a plugin cannot work with; the message is Chinese, for county IT."""


def _key(secret: str | bytes) -> bytes:
    return secret if isinstance(secret, bytes) else secret.encode("utf-8")


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, b"<timestamp>." + body)."""
    mac = hmac.new(_key(secret), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str | bytes, headers: Mapping[str, str], body: bytes, tolerance: float = DEFAULT_TOLERANCE,
           *, now: float | None = None) -> bool:
    """True when ``headers`` carry a valid signature of ``body`` made within ``tolerance`` seconds.

    ``headers`` may be any mapping; names are matched case-insensitively (HTTP headers are).
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    signature, stamp = lowered.get(SIGNATURE.lower(), ""), lowered.get(TIMESTAMP.lower(), "")
    if not signature or not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


def encode(payload: Mapping[str, Any]) -> bytes:
    """The body bytes: compact UTF-8 JSON (Chinese stays readable), key order kept."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def resolve_secret(settings: Mapping[str, Any], prefix: str = "secret") -> str:
    """The secret from ``<prefix>_env`` (an environment variable) or ``<prefix>``; SettingsError if none."""
    env = settings.get(f"{prefix}_env")
    if env:
        value = os.environ.get(str(env), "")
        if not value:
            raise SettingsError(f"环境变量 {env} 未设置,无法签名 (the secret's environment variable is empty)")
        return value
    if settings.get(prefix):
        return str(settings[prefix])
    raise SettingsError(f"缺少签名密钥:请设置 {prefix}_env(推荐)或 {prefix} (no signing secret)")


@dataclass(frozen=True)
class WebhookSender:
    """POSTs a message's payload as signed JSON to its target URL; raises on anything but a 2xx answer."""

    secret: str
    timeout: float = 10.0
    user_agent: str = "wangge-webhook/1"

    def send(self, message: OutboxMessage) -> None:
        import httpx

        body = encode(message.payload)
        stamp = str(int(time.time()))
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": self.user_agent,
                   TIMESTAMP: stamp, SIGNATURE: sign(self.secret, stamp, body),
                   DELIVERY: message.id, EVENT: message.kind}
        response = httpx.post(message.target, content=body, headers=headers, timeout=self.timeout)
        if not 200 <= response.status_code < 300:
            raise RuntimeError(f"HTTP {response.status_code} from {message.target}: {response.text[:200]}")


def sender_from(settings: Mapping[str, Any]) -> WebhookSender:
    return WebhookSender(resolve_secret(settings), float(settings.get("timeout", 10)))


# -- hooks -----------------------------------------------------------------------------------------
@hookimpl
def wangge_notification_senders(context: HookContext) -> dict[str, WebhookSender]:
    if not context.enabled(NAME):
        return {}
    return {KIND: sender_from(context.settings_for(NAME))}


@hookimpl
def wangge_case_event(context: HookContext, case: Mapping[str, Any],
                      transition: Mapping[str, Any]) -> list[OutboxRequest]:
    settings = context.settings_for(NAME)
    urls = settings.get("urls") or ()
    actions = settings.get("actions")
    if not urls or (actions and transition.get("action") not in actions):
        return []
    payload = {"event": "case." + str(transition.get("action", "")), "tenant": context.tenant,
               "case": {k: case.get(k) for k in ("id", "external_id", "channel", "event_class", "unit_code",
                                                 "state", "level", "handler_unit", "due_at", "closed_at")},
               "transition": {k: transition.get(k) for k in ("seq", "at", "actor", "role", "action",
                                                             "from_state", "to_state", "note")}}
    return [OutboxRequest(KIND, str(url), payload) for url in urls]


@hookimpl
def wangge_check_pack(context: HookContext) -> list[str]:
    if not context.enabled(NAME):
        return []
    settings = context.settings_for(NAME)
    problems = []
    if not (settings.get("secret_env") or settings.get("secret")):
        problems.append("webhook: 缺少签名密钥设置 secret_env(推荐)或 secret")
    for url in settings.get("urls") or ():
        if not str(url).startswith(("http://", "https://")):
            problems.append(f"webhook: 接收地址 {url} 必须以 http:// 或 https:// 开头")
    return problems
