"""Which links DrumScribe may fetch: public http(s) addresses only, never the machine's own networks.

A pasted link must not make the service reach its database, its cloud's metadata service or anything
else on a private network (server-side request forgery). These are pure functions on URLs and
addresses; the API calls `check_link` when a link is submitted, and the worker enforces the same
`address_is_fetchable` on every connection it opens (`app.pipeline.connect_guard`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit, urlunsplit

from app.core.errors import RefusedLinkError, UnreachableURLError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[IPAddress]]

_REFUSED_EXTRA: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # deprecated 6to4 relays
        "198.18.0.0/15",  # benchmarking
        "fec0::/10",  # deprecated IPv6 site-local
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "2001::/32",  # Teredo: the IPv4 peer it reaches is not visible here
    )
)
"""Ranges refused on top of what `ipaddress` calls private, loopback, link-local, multicast or reserved."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


INCOMPLETE_LINK = (
    "That isn't a complete web link. Copy it again from your browser's address bar (it starts with https)."
)
LINK_WITH_CREDENTIALS = (
    "That link has a user name or password in it, which this server never sends. "
    "Paste the link without them, or upload the file instead."
)
PRIVATE_LINK = (
    "That link leads to a private or local network, which this server doesn't fetch from. "
    "Paste the link of a public page (YouTube, a band's site), or upload the file instead."
)
UNKNOWN_SITE = (
    "We couldn't find the site of that link. Check it for typos and that it opens in your browser, "
    "or upload the file instead."
)
"""What musicians read about a refused link (`DrumScribeError.musician_message`); the details, with the
link, go to the logs."""


def refused_private_link(url: str) -> RefusedLinkError:
    """The error for a link (or one of its redirects) that leads to a private or local address."""
    return RefusedLinkError(private_address_message(url), musician_message=PRIVATE_LINK)


def private_address_message(url: str) -> str:
    """The operator's detail when a link (or one of its redirects) leads to a private or local address."""
    return (
        f"{shown_url(url)} points to a private or local network address; DrumScribe only fetches public "
        "links (LINK_ALLOWED_NETWORKS names any exceptions): paste the link of a public page (YouTube, "
        "a band's site) or upload the file instead"
    )


def address_is_fetchable(address: IPAddress | str, allowed: Sequence[IPNetwork] = ()) -> bool:
    """True when `address` is a public unicast address, or lies in one of the `allowed` networks.

    IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are judged by the IPv4 host they
    reach; a 6to4 address (2002:aabb:ccdd::) must be public and carry a public IPv4 address.
    """
    ip = ipaddress.ip_address(address)
    inner = _same_host_ipv4(ip)
    if inner is not None:
        return any(ip in net for net in allowed) or address_is_fetchable(inner, allowed)
    if any(ip in net for net in allowed):
        return True
    relayed = ip.sixtofour if isinstance(ip, ipaddress.IPv6Address) else None
    return _is_public(ip) and (relayed is None or _is_public(relayed))


def literal_address(host: str) -> IPAddress | None:
    """The address a host spelled as a number names, as the system resolver reads it; None for a name.

    Besides dotted quads and IPv6 this takes the spellings inet_aton accepts: 2130706433, 0x7f000001,
    0177.0.0.1, 127.1 and 0 all name an IPv4 address.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return None


def check_link_form(url: str) -> tuple[str, int]:
    """The host and port of an http(s) link without credentials; RefusedLinkError for any other link."""
    shown = shown_url(url)
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        raise RefusedLinkError(
            f"{shown} is not a valid link; copy it again from the address bar", musician_message=INCOMPLETE_LINK
        ) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedLinkError(
            f"{shown} is not an http(s) link; paste a link that starts with https://", musician_message=INCOMPLETE_LINK
        )
    if parts.username is not None or parts.password is not None:
        raise RefusedLinkError(
            f"{shown} carries a user name or password; DrumScribe does not send credentials: "
            "paste a public link without them",
            musician_message=LINK_WITH_CREDENTIALS,
        )
    if not parts.hostname:
        raise RefusedLinkError(
            f"{shown} has no host name; paste the whole link, e.g. https://www.youtube.com/...",
            musician_message=INCOMPLETE_LINK,
        )
    try:
        port = parts.port
    except ValueError as exc:
        raise RefusedLinkError(
            f"{shown} has an invalid port number; check the link", musician_message=INCOMPLETE_LINK
        ) from exc
    return parts.hostname, port or (443 if scheme == "https" else 80)


def check_link(url: str, allowed: Sequence[IPNetwork] = (), resolve: Resolver | None = None) -> None:
    """Refuse `url` unless it is an http(s) link whose host is, or resolves only to, fetchable addresses.

    RefusedLinkError for a link DrumScribe will not fetch; UnreachableURLError when the host name does not
    resolve. Name resolution blocks: call this off the event loop.
    """
    host, port = check_link_form(url)
    literal = literal_address(host)
    addresses = [literal] if literal is not None else _resolved(url, host, port, resolve or resolve_host)
    if not all(address_is_fetchable(a, allowed) for a in addresses):
        raise refused_private_link(url)


def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for `host` (what a fetch of the link would try)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]


def shown_url(url: str) -> str:
    """`url` without any user name or password, for messages and logs."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "the link"
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _resolved(url: str, host: str, port: int, resolve: Resolver) -> Sequence[IPAddress]:
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise UnreachableURLError(_unknown_host_message(url, host), musician_message=UNKNOWN_SITE) from exc
    if not addresses:
        raise UnreachableURLError(_unknown_host_message(url, host), musician_message=UNKNOWN_SITE)
    return addresses


def _unknown_host_message(url: str, host: str) -> str:
    return f"could not find the host {host} of {shown_url(url)}; check the link for typos"


def _same_host_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 host an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address reaches."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def _is_public(ip: IPAddress) -> bool:
    # is_global alone misses multicast and a few special ranges; the explicit tests say what is refused.
    special = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
        or any(ip in net for net in _REFUSED_EXTRA)
    )
    return ip.is_global and not special
