// Per-leg TCP socket options: what the control plane asks for, applied to one socket,
// read back from one socket, and the TCP_INFO summary reported when a leg closes.
#pragma once
#include <stdint.h>

#include <string>

struct leg_options {
  std::string cc;          // congestion control; empty keeps the kernel default
  bool nodelay = false;
  bool keepalive = false;
  int keep_idle = 0;       // seconds; 0 keeps the kernel default
  int keep_interval = 0;   // seconds; 0 keeps the kernel default
  int keep_count = 0;      // probes; 0 keeps the kernel default
  int sndbuf = 0;          // bytes as SO_SNDBUF takes them; 0 keeps the kernel's autotuning
  int rcvbuf = 0;          // bytes as SO_RCVBUF takes them; 0 keeps the kernel's autotuning
};

// Applies <o> to the TCP (or MPTCP) socket <fd>. Returns 0 or the errno of the first failure.
int leg_options_apply(int fd, const leg_options& o);

// Applies only the buffer sizes of <o>: on a listener, so that the window scale its SYN-ACKs
// offer already fits them, and its accepted sockets start with them.
int leg_buffers_apply(int fd, const leg_options& o);

// What a socket really has, read with getsockopt (for logs and tests).
struct leg_readback {
  std::string cc;
  bool nodelay = false;
  bool keepalive = false;
  int keep_idle = 0, keep_interval = 0, keep_count = 0;
  uint32_t mark = 0;
  bool mptcp = false;
  int sndbuf = 0, rcvbuf = 0;   // as getsockopt reports them: twice what was set
};
void leg_readback_read(int fd, leg_readback* out);

// The TCP_INFO fields worth reporting per leg; valid is false when the kernel gave none
// (an MPTCP socket on an older kernel, or an fd that is already gone).
struct leg_tcp_info {
  bool valid = false;
  uint32_t rtt_us = 0, rttvar_us = 0, min_rtt_us = 0;
  uint32_t total_retrans = 0, lost = 0;
  uint32_t snd_cwnd = 0, snd_mss = 0;
  uint64_t delivery_rate = 0;   // bytes per second
  uint64_t bytes_acked = 0, bytes_received = 0;
  uint64_t busy_us = 0, rwnd_limited_us = 0, sndbuf_limited_us = 0;   // time sending, and limited by each
  char cc[16] = "";             // congestion control in use
};
void leg_tcp_info_read(int fd, leg_tcp_info* out);
