// Socket address helpers: text <-> sockaddr, IPv4-mapped IPv6 folded to IPv4.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

// An IPv4 or IPv6 endpoint; sa.sa_family tells which member is valid.
union endpoint {
  sockaddr sa;
  sockaddr_in v4;
  sockaddr_in6 v6;
};

socklen_t inet_len(const endpoint& a);
int inet_port(const endpoint& a);

// Parses a numeric IPv4 or IPv6 address (no brackets) with a port; false when not numeric.
bool inet_parse(const std::string& host, int port, endpoint* out);

// Rewrites ::ffff:a.b.c.d as the IPv4 address a.b.c.d (dual-stack listeners report those).
void inet_unmap(endpoint* a);
