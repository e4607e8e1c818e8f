"""Which links and addresses DrumScribe may fetch, as pure functions: nothing here connects anywhere.

Addresses of public hosts below are only constructed and compared, never contacted; names are
answered by resolvers written in the test, never by DNS.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.core.errors import RefusedLinkError, UnreachableURLError
from app.pipeline.link_safety import (
    IPAddress,
    Resolver,
    address_is_fetchable,
    check_link,
    literal_address,
    shown_url,
)

PRIVATE_OR_LOCAL = [
    "127.0.0.1",
    "127.255.255.254",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "100.127.255.254",
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",
    "0.0.0.0",
    "0.1.2.3",
    "224.0.0.1",  # multicast
    "239.255.255.250",
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "198.18.0.1",  # benchmarking
    "192.0.0.170",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd12:3456::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "fec0::1",  # site-local
    "ff02::1",  # multicast
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:0:7f00:1",  # IPv4-translated
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "151.101.1.69",
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped public
    "64:ff9b::808:808",  # NAT64 of a public address (IPv6-only networks)
    "2002:808:808::1",  # 6to4 of a public address
]

LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:8080/x.wav",
    "http://localhost:8080/x.wav",
    "http://LOCALHOST/x.wav",
    "http://2130706433/x.wav",
    "http://0x7f000001/x.wav",
    "http://0177.0.0.1/x.wav",
    "http://0/x.wav",
    "http://127.1/x.wav",
    "http://127.000.000.001/x.wav",
    "http://[::1]:8080/x.wav",
    "http://[::ffff:127.0.0.1]/x.wav",
    "http://[::ffff:7f00:1]/x.wav",
    "http://[0:0:0:0:0:0:0:1]/x.wav",
    "https://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/x.wav",
    "http://[fd00::1]/x.wav",
]


def no_dns(host: str, port: int) -> Sequence[IPAddress]:
    raise AssertionError(f"{host} is an address: it must be read, not looked up")


def answers(*addresses: str) -> Resolver:
    """A resolver that answers every name with `addresses`, the way an attacker's DNS server could."""

    def resolve(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(a) for a in addresses]

    return resolve


@pytest.mark.parametrize("address", PRIVATE_OR_LOCAL)
def test_private_local_and_special_addresses_are_refused(address: str) -> None:
    assert not address_is_fetchable(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_fetchable(address: str) -> None:
    assert address_is_fetchable(address)


@pytest.mark.parametrize("address", ["192.0.2.10", "198.51.100.7", "203.0.113.1", "2001:db8::1"])
def test_documentation_ranges_are_not_routable_so_they_are_refused(address: str) -> None:
    assert not address_is_fetchable(address)


def test_allowed_networks_open_exactly_their_addresses() -> None:
    loopback = [ipaddress.ip_network("127.0.0.0/8")]
    assert address_is_fetchable("127.0.0.1", loopback)
    assert address_is_fetchable("::ffff:127.0.0.1", loopback), "the mapped form reaches the same host"
    assert not address_is_fetchable("::1", loopback)
    assert not address_is_fetchable("10.0.0.1", loopback)
    assert not address_is_fetchable("169.254.169.254", loopback)
    assert address_is_fetchable("fd00::5", [ipaddress.ip_network("fd00::/8")])


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("::1", "::1"),
        ("::ffff:127.0.0.1", "::ffff:7f00:1"),
        ("localhost", None),
        ("www.example.com", None),
    ],
)
def test_numeric_hosts_are_read_in_every_spelling(host: str, address: str | None) -> None:
    expected = ipaddress.ip_address(address) if address else None
    assert literal_address(host) == expected


@pytest.mark.parametrize("url", LOOPBACK_SPELLINGS)
def test_links_to_loopback_private_or_metadata_addresses_are_refused(url: str) -> None:
    resolve = answers("127.0.0.1") if "localhost" in url.lower() else no_dns
    with pytest.raises(RefusedLinkError) as refused:
        check_link(url, resolve=resolve)
    message = str(refused.value)
    assert "points to a private or local network address" in message
    assert "DrumScribe only fetches public links" in message
    assert "refused" not in message.lower() and "open" not in message.lower()


def test_a_name_is_refused_when_any_of_its_addresses_is_private() -> None:
    check_link("https://songs.example/a.mp3", resolve=answers("8.8.8.8", "2606:4700:4700::1111"))
    with pytest.raises(RefusedLinkError, match="private or local network address"):
        check_link("https://songs.example/a.mp3", resolve=answers("8.8.8.8", "10.0.0.5"))
    with pytest.raises(RefusedLinkError, match="private or local network address"):
        check_link("https://songs.example/a.mp3", resolve=answers("::ffff:169.254.169.254"))


def test_allowed_networks_let_a_link_through() -> None:
    check_link("http://127.0.0.1:8080/x.wav", [ipaddress.ip_network("127.0.0.0/8")], resolve=no_dns)


def test_credentials_in_a_link_are_refused_and_not_repeated() -> None:
    with pytest.raises(RefusedLinkError, match="user name or password") as refused:
        check_link("http://user:secret@songs.example/a.mp3", resolve=answers("8.8.8.8"))
    assert "secret" not in str(refused.value) and "songs.example/a.mp3" in str(refused.value)
    with pytest.raises(RefusedLinkError, match="user name or password"):
        check_link("http://user:pass@127.0.0.1/x.wav", resolve=no_dns)
    assert shown_url("https://a:b@songs.example:8443/x?y=1") == "https://songs.example:8443/x?y=1"


@pytest.mark.parametrize("url", ["ftp://songs.example/a.mp3", "file:///etc/passwd", "gopher://127.0.0.1/", "x"])
def test_only_http_and_https_links_are_fetched(url: str) -> None:
    with pytest.raises(RefusedLinkError, match="not an http"):
        check_link(url, resolve=no_dns)


def test_a_host_that_does_not_resolve_is_reported_as_such() -> None:
    def unknown(host: str, port: int) -> Sequence[IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(UnreachableURLError, match=r"could not find the host nowhere\.example .*check the link"):
        check_link("https://nowhere.example/a.mp3", resolve=unknown)
    with pytest.raises(UnreachableURLError, match="could not find the host"):
        check_link("https://nowhere.example/a.mp3", resolve=answers())


def test_link_allowed_networks_setting_is_parsed_and_checked() -> None:
    settings = Settings(LINK_ALLOWED_NETWORKS=" 127.0.0.0/8, fd00::/8 ,")
    assert settings.link_allowed_networks == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("fd00::/8"))
    assert Settings(LINK_ALLOWED_NETWORKS="").link_allowed_networks == ()
    with pytest.raises(ValidationError, match="LINK_ALLOWED_NETWORKS: 'intranet' is not a network"):
        Settings(LINK_ALLOWED_NETWORKS="10.0.0.0/8,intranet")
