#include "inet.h"

#include <arpa/inet.h>
#include <string.h>

socklen_t inet_len(const endpoint& a) {
  return a.sa.sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
}

int inet_port(const endpoint& a) {
  return ntohs(a.sa.sa_family == AF_INET ? a.v4.sin_port : a.v6.sin6_port);
}

bool inet_parse(const std::string& host, int port, endpoint* out) {
  memset(out, 0, sizeof(*out));
  if (inet_pton(AF_INET, host.c_str(), &out->v4.sin_addr) == 1) {
    out->v4.sin_family = AF_INET;
    out->v4.sin_port = htons(port);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &out->v6.sin6_addr) == 1) {
    out->v6.sin6_family = AF_INET6;
    out->v6.sin6_port = htons(port);
    return true;
  }
  return false;
}

void inet_unmap(endpoint* a) {
  if (a->sa.sa_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&a->v6.sin6_addr)) return;
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = a->v6.sin6_port;
  memcpy(&v4.sin_addr, &a->v6.sin6_addr.s6_addr[12], 4);
  a->v4 = v4;
}
