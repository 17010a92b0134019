// The data plane: accepts intercepted connections, opens the server leg, and relays bytes
// with splice(2) through pooled pipes. All sockets sit in one edge-triggered epoll set whose
// fd is polled by a single uv_poll on Node's loop; nothing here calls into JavaScript, it
// reports to an engine_sink.
#pragma once
#include <uv.h>

#include <stdint.h>

#include <vector>

#include "deadline-heap.h"
#include "inet.h"
#include "leg-options.h"
#include "pipe-pool.h"
#include "tsock.h"

// Why a connection closed. Exposed to users (logs, metric labels): never renumber.
enum close_reason : uint8_t {
  TI_CR_EOF = 0,              // both directions ended with a FIN
  TI_CR_CLIENT_RESET = 1,     // the client leg was reset (or failed); the server leg got a RST
  TI_CR_SERVER_RESET = 2,     // the server leg was reset (or failed); the client leg got a RST
  TI_CR_REFUSED = 3,          // the server refused the connection
  TI_CR_UNREACHABLE = 4,      // no route to the server (ICMP unreachable)
  TI_CR_CONNECT_TIMEOUT = 5,  // the server did not answer within the connect timeout
  TI_CR_IDLE_TIMEOUT = 6,     // no byte moved either way for the idle timeout
  TI_CR_LIMIT = 7,            // refused at accept: the connection limit was reached
  TI_CR_ERROR = 8,            // a local failure (errno tells which: EMFILE, EADDRINUSE, ...)
  TI_CR_SHUTDOWN = 9,         // the proxy stopped with the connection still open
  TI_CR_LOOP = 10,            // the destination is the proxy's own listener
  TI_CR_COUNT
};
const char* close_reason_name(close_reason r);

enum leg_side : uint8_t { LEG_NONE = 0, LEG_CLIENT = 1, LEG_SERVER = 2 };

struct engine_config {
  outbound_options out;
  leg_options client_leg;
  uint32_t buffer_size = 1 << 20;   // bytes in flight per direction
  uint32_t pipe_keep_bytes = 16 << 20;   // pipe capacity kept idle for reuse
  uint32_t max_connections = 0;     // 0: no limit
  uint32_t connect_timeout_ms = 10000;
  uint32_t idle_timeout_ms = 0;     // 0: none
  bool inspect = false;             // read the legs' options back at open (for logs, tests)
};

struct open_event {
  uint64_t id;
  endpoint client, target, local;
  uint64_t connect_us;
  bool inspected;
  leg_readback client_leg, server_leg;
};

struct close_event {
  uint64_t id;
  close_reason reason;
  int err;                 // errno behind the reason, 0 if none
  leg_side err_leg;        // which leg the error came from
  bool opened;             // an open event was sent for this connection
  endpoint client, target;
  uint64_t c2s_bytes, s2c_bytes, duration_us;
  leg_tcp_info client_info, server_info;
};

class engine_sink {
 public:
  virtual ~engine_sink() = default;
  virtual void on_open(const open_event& e) = 0;
  virtual void on_close(const close_event& e) = 0;
  // End of a batch of work started by the loop: deliver what was collected.
  virtual void flush() = 0;
};

struct engine_stats {
  uint64_t accepted = 0;
  uint64_t c2s_bytes = 0, s2c_bytes = 0;   // relayed so far, open connections included
  uint64_t fd_exhausted = 0;               // accepts shed because no fd was left
  uint32_t active = 0, connecting = 0, listeners = 0;
  size_t pipes_in_use = 0, pipes_idle = 0;
  uint64_t pipe_bytes_in_use = 0, pipe_bytes_idle = 0;   // capacity, what the pipe quota counts
  uint64_t pipes_undersized = 0;
};

struct conn;
struct listener;

// Where a connection waits to be pumped again: nowhere, on the next turn of the loop (its turn's
// budget was spent), or on the next timer tick (no pipe could be made).
enum retry_list : uint8_t { RETRY_READY = 0, RETRY_PARKED = 1, RETRY_NONE = 2 };

class engine {
 public:
  engine(uv_loop_t* loop, engine_sink* sink, const engine_config& cfg);
  // Starts polling; returns 0 or -errno.
  int start();
  // Applies to connections accepted from now on.
  void configure(const engine_config& cfg);
  // Opens a transparent listener; returns the bound port or -errno (with <*syscall>).
  int listen(const endpoint& addr, const listen_options& o, const char** syscall);
  void stop_listening();
  // Resets every open connection (reason shutdown); events go to the sink without flush().
  void abort_all();
  // The figures so far of every connection relaying for at least <min_age_ms>, as close_events
  // of connections that are still open.
  // Connections relaying at least min_age_ms whose id % slices == slice (a share per call, so that
  // TCP_INFO reads of many connections are spread over several turns of the loop).
  std::vector<close_event> sample(uint64_t min_age_ms, uint32_t slice, uint32_t slices) const;
  // Aborts everything and releases the loop handles; the object deletes itself afterwards.
  void close();
  engine_stats stats() const;

 private:
  close_event snapshot(const conn* c) const;
  ~engine();
  static void on_poll(uv_poll_t* h, int status, int events);
  static void on_timer(uv_timer_t* h);
  static void on_idle(uv_idle_t* h);
  static void on_handle_closed(uv_handle_t* h);

  void poll_batch();
  void retry_later(conn* c, retry_list which);
  void run_retries(retry_list which);
  void end_batch();
  void on_accept(listener* l);
  void shed_accept(listener* l);
  void start_conn(int cfd, endpoint client);
  void reject(uint64_t id, int fd, const endpoint& client, const endpoint& target,
              close_reason r, int err, leg_side leg);
  void on_connected(conn* c);
  void on_ready(conn* c, leg_side side, uint32_t events);
  void pump(conn* c);
  int pump_dir(conn* c, bool c2s, uint64_t* moved, leg_side* failed, bool* starved);
  void leg_failed(conn* c, leg_side side, int err);
  void salvage(conn* c);
  void finish(conn* c, close_reason r, int err, leg_side side);
  bool is_own_listener(const endpoint& target) const;
  void unlink(conn* c);

  uv_loop_t* loop_;
  engine_sink* sink_;
  engine_config cfg_;
  pipe_pool pipes_;
  int epfd_ = -1;
  int spare_fd_ = -1;   // kept open so an accept can be shed when fds run out
  uv_poll_t poll_;
  uv_timer_t timer_;
  uv_idle_t idle_;
  int open_handles_ = 0;
  bool closing_ = false;

  std::vector<listener*> listeners_;
  conn* all_ = nullptr;                  // every open connection (doubly linked)
  deadline_heap<conn> connecting_;      // connect in progress, by connect deadline
  std::vector<conn*> retries_[2];        // by retry_list: to pump on the next turn, or tick
  std::vector<conn*> graveyard_;         // closed in this batch, freed at its end
  uint64_t next_id_ = 0;
  uint64_t last_sweep_ms_ = 0;
  size_t idle_timed_ = 0;                // open connections with an idle timeout
  uint64_t shortest_idle_ms_ = UINT64_MAX;   // the shortest idle timeout ever given: how often to sweep
  engine_stats stats_;
};

