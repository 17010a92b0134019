// Transparent sockets: the listener TPROXY delivers to, and the outbound (server) leg that
// binds to the client's address.
#pragma once
#include "inet.h"
#include "leg-options.h"

struct listen_options {
  int backlog = 4096;
  bool reuse_port = true;
  bool v6only = false;     // for [::]: false makes one dual-stack socket
};

// Creates a non-blocking, close-on-exec, transparent listening socket bound to <addr>.
// Returns the fd, or -errno with <*syscall> naming the call that failed.
int tsock_listen(const endpoint& addr, const listen_options& o, const char** syscall);

enum bind_mode : uint8_t {
  BIND_CLIENT = 0,        // client's IP, a fresh port (IP_BIND_ADDRESS_NO_PORT)
  BIND_CLIENT_PORT = 1,   // client's IP and port
  BIND_FIXED = 2,         // a fixed local address of the same family, fresh port; no spoofing
};

struct outbound_options {
  bind_mode mode = BIND_CLIENT;
  endpoint fixed4{}, fixed6{};   // BIND_FIXED: sa_family 0 means "let the kernel choose"
  uint32_t mark = 0;
  bool mptcp = false;
  leg_options leg;
};

// Starts a non-blocking connect from <client> (spoofed per <o.mode>) to <target>.
// Returns the fd (connect in progress or done), or -errno with <*syscall> set.
int tsock_connect(const endpoint& client, const endpoint& target, const outbound_options& o,
                  const char** syscall);

// Resets <fd> (RST instead of FIN) and closes it.
void tsock_reset_close(int fd);

// True when <addr> is one of this host's own addresses (a plain bind to it succeeds).
bool tsock_is_local(const endpoint& addr);
