"""Where a webhook may go: https in production, and never into the server's own network.

A key holder who could register ``http://10.0.0.5/admin`` would make the server
probe its own network (SSRF). Every address the name resolves to is checked,
when the endpoint is registered and again at each delivery, and the delivery
connects to the very address that was checked, so a name that resolves to
something else a second later (DNS rebinding) gains nothing.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

from app.core.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeWebhookUrl(InvalidInput):
    code = "unsafe_url"


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def _allowed(host: str, address: IPAddress, allowlist: Sequence[str]) -> bool:
    for entry in allowlist:
        if entry.lower() == host.lower():
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_url_form(url: str, *, production: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL webhooks may use, or UnsafeWebhookUrl."""
    parts = urlsplit(url.strip())
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname:
        words = "an https:// URL" if production else "an http:// or https:// URL"
        raise UnsafeWebhookUrl(f"Give {words}.", fields={"url": [f"Must be {words}."]})
    if parts.username or parts.password:
        raise UnsafeWebhookUrl("Put no user name or password in the URL.", fields={"url": ["No credentials in the URL."]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhookUrl("That port is not a number.", fields={"url": ["Bad port."]}) from None
    return parts.scheme, parts.hostname, port


def resolve_safely(host: str, port: int, *, production: bool, allowlist: Sequence[str]) -> str:
    """An address of ``host`` we may connect to; in production every address must be public or allow-listed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise UnsafeWebhookUrl(f"{host} does not resolve to an address.", fields={"url": ["Unknown host."]}) from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if production:
        refused = [str(a) for a in addresses if not _is_public(a) and not _allowed(host, a, allowlist)]
        if refused:
            raise UnsafeWebhookUrl(
                f"{host} resolves to a private or loopback address ({', '.join(sorted(set(refused)))}); webhooks only go to the public internet.",
                fields={"url": ["Private, loopback and link-local addresses are refused."]},
            )
    return str(addresses[0])
