#include "tsock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static int set_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof(value));
}

static int fail(int fd, const char* what, const char** syscall) {
  int err = errno;
  if (fd >= 0) close(fd);
  *syscall = what;
  return -err;
}

static int make_transparent(int fd, int family) {
  return family == AF_INET ? set_int(fd, SOL_IP, IP_TRANSPARENT, 1)
                           : set_int(fd, SOL_IPV6, IPV6_TRANSPARENT, 1);
}

int tsock_listen(const endpoint& addr, const listen_options& o, const char** syscall) {
  int family = addr.sa.sa_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd == -1) return fail(fd, "socket", syscall);
  if (make_transparent(fd, family) == -1) return fail(fd, "setsockopt(IP_TRANSPARENT)", syscall);
  if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) == -1)
    return fail(fd, "setsockopt(SO_REUSEADDR)", syscall);
  if (o.reuse_port && set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) == -1)
    return fail(fd, "setsockopt(SO_REUSEPORT)", syscall);
  if (family == AF_INET6 && set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, o.v6only ? 1 : 0) == -1)
    return fail(fd, "setsockopt(IPV6_V6ONLY)", syscall);
  if (bind(fd, &addr.sa, inet_len(addr)) == -1) return fail(fd, "bind", syscall);
  if (listen(fd, o.backlog) == -1) return fail(fd, "listen", syscall);
  return fd;
}

int tsock_connect(const endpoint& client, const endpoint& target, const outbound_options& o,
                  const char** syscall) {
  int family = target.sa.sa_family;
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  o.mptcp ? IPPROTO_MPTCP : IPPROTO_TCP);
  if (fd == -1) return fail(fd, "socket", syscall);

  endpoint local{};
  if (o.mode == BIND_FIXED) {
    const endpoint& fixed = family == AF_INET ? o.fixed4 : o.fixed6;
    if (fixed.sa.sa_family == family) local = fixed;
  } else if (client.sa.sa_family == family) {
    local = client;
    if (o.mode == BIND_CLIENT) {
      if (family == AF_INET) local.v4.sin_port = 0;
      else local.v6.sin6_port = 0;
    }
    if (make_transparent(fd, family) == -1) return fail(fd, "setsockopt(IP_TRANSPARENT)", syscall);
  }
  if (local.sa.sa_family) {
    if (inet_port(local) == 0) {
      // Defers the port choice to connect(), where the full 4-tuple is known, so one client
      // address can have far more than 64k outbound legs. Not every protocol has it (older
      // MPTCP): without it the port is chosen at bind(), which is only less scalable.
      set_int(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, 1);
    } else if (set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) == -1) {
      return fail(fd, "setsockopt(SO_REUSEADDR)", syscall);
    }
    if (bind(fd, &local.sa, inet_len(local)) == -1) return fail(fd, "bind", syscall);
  }
  if (o.mark && set_int(fd, SOL_SOCKET, SO_MARK, static_cast<int>(o.mark)) == -1)
    return fail(fd, "setsockopt(SO_MARK)", syscall);
  int err = leg_options_apply(fd, o.leg);
  if (err) {
    errno = err;
    return fail(fd, "setsockopt", syscall);
  }
  if (connect(fd, &target.sa, inet_len(target)) == -1 && errno != EINPROGRESS)
    return fail(fd, "connect", syscall);
  return fd;
}

void tsock_reset_close(int fd) {
  struct linger lg = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(fd);
}

bool tsock_is_local(const endpoint& addr) {
  endpoint probe = addr;
  if (probe.sa.sa_family == AF_INET) probe.v4.sin_port = 0;
  else probe.v6.sin6_port = 0;
  int fd = socket(probe.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd == -1) return false;
  bool local = bind(fd, &probe.sa, inet_len(probe)) == 0;
  close(fd);
  return local;
}
