"""Which destinations a tenant's webhook may reach: the screen for every address connected to.

Whoever may create a job chooses its webhook URL, and the operator's pod can reach what no tenant
may: the node's instance metadata, the API server, other namespaces' pods (on EKS with custom
networking, in 100.64.0.0/10). As GitLab's UrlBlocker and Stripe's smokescreen do it: a host is
refused by its form (cluster names, bare names that the pod's search domains would complete), and
an address unless it is globally reachable unicast, after unwrapping every form that embeds an
IPv4 address (IPv4-mapped and -compatible, 6to4, NAT64, Teredo). The adapter applies this to the
address it actually connects to (a resolver inside the HTTP connector), so a name whose answer
changes between two lookups gains nothing. Pure: no resolution here.
"""

import ipaddress
from collections.abc import Iterable
from fnmatch import fnmatchcase

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CLUSTER_SUFFIXES = (".svc", ".cluster.local", ".internal", ".local", ".localhost", ".localdomain")

# IANA's special-purpose registries, the ranges not globally reachable, listed here rather than
# left to `is_global` alone, whose answer has changed between Python releases (192.0.0.0/24).
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
        "::/128", "::1/128", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20",
        "5f00::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
)  # fmt: skip
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (and routes to, through some gateway)."""
    found: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)  # (server, client): the client unobfuscated
    if address in _NAT64 or (address in _IPV4_COMPATIBLE and int(address) > 1):
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def refused_address(text: str) -> str | None:
    """Why a webhook may not connect to this address, or None when it is globally reachable
    unicast (and so is every IPv4 address it embeds)."""
    try:
        address: IpAddress = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return f"{text!r} is not an IP address"
    if isinstance(address, ipaddress.IPv6Address):  # first: what it carries says most
        for inner in embedded_ipv4(address):
            if (why := refused_address(str(inner))) is not None:
                return f"internal address {address} (it embeds {inner}: {why})"
    if address.is_multicast:
        return f"multicast address {address}"
    if address.is_link_local:
        return f"link-local address {address} (instance metadata and the like)"
    if not address.is_global or any(
        address in network for network in _NOT_GLOBAL if network.version == address.version
    ):
        return f"internal address {address} (not globally reachable)"
    return None


def host_address(host: str) -> IpAddress | None:
    """The host as an IP address, when the URL names one ('[::1]' without brackets)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def refused_name(host: str) -> str | None:
    """Why a host name is refused before any lookup: names of the cluster or the machine, bare
    names (one label: `kubernetes`, `metadata`, completed by the pod's search domains), and IP
    addresses that are refused themselves."""
    if host_address(host) is not None:
        return refused_address(host.strip("[]"))
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(_CLUSTER_SUFFIXES):
        return f"{host} is a cluster-internal name"
    if "." not in name:
        return f"{host} is a bare name (the pod's search domains would make it a cluster name)"
    return None


def allowed_internal(host: str, patterns: Iterable[str]) -> bool:
    """The operator allows this host name (itself, not whatever it aliases) although it is internal."""
    name = host.lower().rstrip(".")
    return any(fnmatchcase(name, pattern.lower()) for pattern in patterns)


def internal_address(host: str, addresses: Iterable[str]) -> str | None:
    """Why a host is refused: by its name, or by any address it resolved to; None when allowed."""
    if (why := refused_name(host)) is not None:
        return why
    for text in addresses:
        if (why := refused_address(text)) is not None:
            return f"{host} resolves to {why}"
    return None
