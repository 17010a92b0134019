#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace {

constexpr int kAcceptBatch = 64;
constexpr int kEpollBatch = 256;
constexpr uint64_t kPumpBudget = 4u << 20;   // bytes per direction per turn before yielding
constexpr uint64_t kTickMs = 50;
constexpr uint64_t kStarveMs = 1000;   // how long a connection may wait for a pipe
// After a leg dies, how long what it had sent (already acknowledged by us) may take to reach the
// other peer before that one is reset as well.
constexpr uint64_t kSalvageMs = 5000;

// epoll user data: the object's address with the kind in the low bits.
enum tag : uintptr_t { TAG_CLIENT = 0, TAG_SERVER = 1, TAG_LISTENER = 2, TAG_MASK = 3 };

enum ready_bits : uint8_t { RD = 1, WR = 2 };

const char* const kReasonNames[TI_CR_COUNT] = {
    "eof",          "client-reset", "server-reset", "refused", "unreachable", "connect-timeout",
    "idle-timeout", "limit",        "error",        "shutdown", "loop"};

close_reason connect_failure_reason(int err) {
  switch (err) {
    case ECONNREFUSED: return TI_CR_REFUSED;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN: return TI_CR_UNREACHABLE;
    case ETIMEDOUT: return TI_CR_CONNECT_TIMEOUT;
    default: return TI_CR_ERROR;
  }
}

// A socket error on a leg: a reset (or any other death of the peer) is reported as that
// leg's reset; local errors keep their errno under "error".
close_reason leg_failure_reason(int err, leg_side side) {
  switch (err) {
    case ECONNRESET:
    case EPIPE:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH: return side == LEG_CLIENT ? TI_CR_CLIENT_RESET : TI_CR_SERVER_RESET;
    default: return TI_CR_ERROR;
  }
}

uint64_t now_us() { return uv_hrtime() / 1000; }

int socket_error(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ? errno : err;
}

// Bytes written to the socket that its peer has not acknowledged yet (a FIN counts as one).
int unacked(int fd) {
  int n = 0;
  return ioctl(fd, SIOCOUTQ, &n) == -1 ? 0 : n;
}

}  // namespace

const char* close_reason_name(close_reason r) {
  return r < TI_CR_COUNT ? kReasonNames[r] : "unknown";
}

struct listener {
  int fd;
  int port;
  endpoint addr;
};

struct relay_dir {
  pipe_pair* pipe = nullptr;
  uint32_t pending = 0;     // bytes in the pipe
  bool src_eof = false;
  bool dst_shut = false;
  uint64_t bytes = 0;       // delivered to the destination
  bool done() const { return src_eof && pending == 0 && dst_shut; }
};

enum conn_state : uint8_t { CONNECTING, RELAYING, CLOSED };

struct conn {
  conn* prev = nullptr;
  conn* next = nullptr;
  uint64_t id;
  int cfd, sfd;
  conn_state state = CONNECTING;
  uint8_t cready = 0, sready = 0;
  retry_list retry = RETRY_NONE;
  uint64_t starved_since_ms = 0;   // waiting for a pipe since (0: not waiting)
  leg_side dead = LEG_NONE;        // the leg that failed; the other still gets what it sent
  int dead_err = 0;
  uint64_t salvage_until_ms = 0;
  relay_dir c2s, s2c;
  endpoint client, target;
  uint64_t start_us;
  uint64_t deadline_ms;     // of the connect
  size_t heap_slot = 0;     // in engine::connecting_
  uint64_t active_ms;
  uint64_t idle_ms;         // --idle-timeout when it was accepted (0: none); a reload changes new ones only
};

engine::engine(uv_loop_t* loop, engine_sink* sink, const engine_config& cfg)
    : loop_(loop), sink_(sink), cfg_(cfg), pipes_(cfg.buffer_size, cfg.pipe_keep_bytes) {}

engine::~engine() {
  if (epfd_ != -1) ::close(epfd_);
  if (spare_fd_ != -1) ::close(spare_fd_);
}

int engine::start() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ == -1) return -errno;
  spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int rc = uv_poll_init(loop_, &poll_, epfd_);
  if (rc) return rc;
  poll_.data = this;
  uv_poll_start(&poll_, UV_READABLE, on_poll);
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));   // listeners keep the process alive
  uv_timer_init(loop_, &timer_);
  timer_.data = this;
  uv_timer_start(&timer_, on_timer, kTickMs, kTickMs);
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer_));
  uv_idle_init(loop_, &idle_);
  idle_.data = this;
  open_handles_ = 3;
  return 0;
}

void engine::configure(const engine_config& cfg) {
  if (cfg.buffer_size != cfg_.buffer_size || cfg.pipe_keep_bytes != cfg_.pipe_keep_bytes)
    pipes_.configure(cfg.buffer_size, cfg.pipe_keep_bytes);
  cfg_ = cfg;
  for (const listener* l : listeners_) leg_buffers_apply(l->fd, cfg_.client_leg);
}

int engine::listen(const endpoint& addr, const listen_options& o, const char** syscall) {
  int fd = tsock_listen(addr, o, syscall);
  if (fd < 0) return fd;
  if (int err = leg_buffers_apply(fd, cfg_.client_leg)) {
    ::close(fd);
    *syscall = "setsockopt(SO_RCVBUF)";
    return -err;
  }
  listener* l = new listener{fd, 0, addr};
  socklen_t len = sizeof(l->addr);
  getsockname(fd, &l->addr.sa, &len);
  l->port = inet_port(l->addr);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = reinterpret_cast<uintptr_t>(l) | TAG_LISTENER;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == -1) {
    int err = errno;
    ::close(fd);
    delete l;
    *syscall = "epoll_ctl";
    return -err;
  }
  listeners_.push_back(l);
  uv_ref(reinterpret_cast<uv_handle_t*>(&poll_));
  return l->port;
}

void engine::stop_listening() {
  for (listener* l : listeners_) {
    ::close(l->fd);
    delete l;
  }
  listeners_.clear();
  // Open connections alone do not keep Node alive: the control plane decides how long to drain.
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_));
}

bool engine::is_own_listener(const endpoint& target) const {
  int port = inet_port(target);
  for (const listener* l : listeners_)
    if (l->port == port) return tsock_is_local(target);
  return false;
}

engine_stats engine::stats() const {
  engine_stats s = stats_;
  s.listeners = static_cast<uint32_t>(listeners_.size());
  s.pipes_in_use = pipes_.in_use();
  s.pipes_idle = pipes_.idle();
  s.pipe_bytes_in_use = pipes_.bytes_in_use();
  s.pipe_bytes_idle = pipes_.bytes_idle();
  s.pipes_undersized = pipes_.undersized();
  return s;
}

// ---- loop callbacks ----

void engine::on_poll(uv_poll_t* h, int, int) {
  engine* e = static_cast<engine*>(h->data);
  e->poll_batch();
  e->end_batch();
}

void engine::on_idle(uv_idle_t* h) {
  engine* e = static_cast<engine*>(h->data);
  e->run_retries(RETRY_READY);
  e->end_batch();
}

void engine::on_timer(uv_timer_t* h) {
  engine* e = static_cast<engine*>(h->data);
  uint64_t now = uv_now(e->loop_);
  e->run_retries(RETRY_PARKED);
  while (!e->connecting_.empty() && e->connecting_.earliest()->deadline_ms <= now)
    e->finish(e->connecting_.earliest(), TI_CR_CONNECT_TIMEOUT, ETIMEDOUT, LEG_SERVER);
  if (e->idle_timed_ && now - e->last_sweep_ms_ >= std::min<uint64_t>(e->shortest_idle_ms_ / 4 + 1, 1000)) {
    e->last_sweep_ms_ = now;
    for (conn* c = e->all_; c;) {
      conn* next = c->next;
      if (c->idle_ms && c->state == RELAYING && now - c->active_ms >= c->idle_ms)
        e->finish(c, TI_CR_IDLE_TIMEOUT, 0, LEG_NONE);
      c = next;
    }
  }
  e->end_batch();
}

void engine::end_batch() {
  if (!graveyard_.empty()) {
    auto closed = [](conn* c) { return c->state == CLOSED; };
    for (std::vector<conn*>& list : retries_) list.erase(std::remove_if(list.begin(), list.end(), closed), list.end());
    for (conn* c : graveyard_) delete c;
    graveyard_.clear();
  }
  if (retries_[RETRY_READY].empty()) uv_idle_stop(&idle_);
  else uv_idle_start(&idle_, on_idle);
  sink_->flush();
}

void engine::poll_batch() {
  epoll_event events[kEpollBatch];
  int n = epoll_wait(epfd_, events, kEpollBatch, 0);
  for (int i = 0; i < n; i++) {
    uintptr_t data = events[i].data.u64;
    uintptr_t kind = data & TAG_MASK;
    if (kind == TAG_LISTENER) {
      on_accept(reinterpret_cast<listener*>(data & ~uintptr_t(TAG_MASK)));
      continue;
    }
    conn* c = reinterpret_cast<conn*>(data & ~uintptr_t(TAG_MASK));
    if (c->state == CLOSED) continue;
    uint32_t ev = events[i].events;
    uint8_t bits = 0;
    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) bits |= RD;
    if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) bits |= WR;
    if (kind == TAG_CLIENT) c->cready |= bits;
    else c->sready |= bits;
    if (c->state == RELAYING) on_ready(c, kind == TAG_CLIENT ? LEG_CLIENT : LEG_SERVER, ev);
    else if (kind == TAG_SERVER && (bits & WR)) on_connected(c);
  }
}

// A connection is in at most one retry list; moved from parked to ready, it leaves a stale
// entry behind in the parked list, which the state check skips.
void engine::retry_later(conn* c, retry_list which) {
  if (c->retry == which || c->retry == RETRY_READY) return;
  c->retry = which;
  retries_[which].push_back(c);
}

void engine::run_retries(retry_list which) {
  std::vector<conn*> batch;
  batch.swap(retries_[which]);
  for (conn* c : batch) {
    if (c->retry != which) continue;
    c->retry = RETRY_NONE;
    if (c->state == RELAYING) pump(c);
  }
}

// ---- accept and connect ----

void engine::on_accept(listener* l) {
  for (int i = 0; i < kAcceptBatch; i++) {
    endpoint client{};
    socklen_t len = sizeof(client);
    int fd = accept4(l->fd, &client.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd == -1) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) shed_accept(l);
      return;   // EAGAIN, or a resource shortage: the level-triggered listener fires again
    }
    stats_.accepted++;
    inet_unmap(&client);
    start_conn(fd, client);
  }
}

// Out of fds: accept the pending connection with the spare fd and reset it at once, so the
// client learns at once instead of waiting in the backlog, and the listener stops firing.
void engine::shed_accept(listener* l) {
  stats_.fd_exhausted++;
  if (spare_fd_ == -1) return;
  ::close(spare_fd_);
  endpoint client{};
  socklen_t len = sizeof(client);
  int fd = accept4(l->fd, &client.sa, &len, SOCK_CLOEXEC);
  if (fd != -1) {
    inet_unmap(&client);
    endpoint target{};
    len = sizeof(target);
    getsockname(fd, &target.sa, &len);
    inet_unmap(&target);
    stats_.accepted++;
    reject(++next_id_, fd, client, target, TI_CR_ERROR, EMFILE, LEG_NONE);
  }
  spare_fd_ = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void engine::reject(uint64_t id, int fd, const endpoint& client, const endpoint& target,
                    close_reason r, int err, leg_side leg) {
  tsock_reset_close(fd);
  close_event e{};
  e.id = id;
  e.reason = r;
  e.err = err;
  e.err_leg = leg;
  e.client = client;
  e.target = target;
  sink_->on_close(e);
}

void engine::start_conn(int cfd, endpoint client) {
  uint64_t id = ++next_id_;
  endpoint target{};
  socklen_t len = sizeof(target);
  getsockname(cfd, &target.sa, &len);
  inet_unmap(&target);

  if (cfg_.max_connections && stats_.active >= cfg_.max_connections)
    return reject(id, cfd, client, target, TI_CR_LIMIT, 0, LEG_NONE);
  if (is_own_listener(target)) return reject(id, cfd, client, target, TI_CR_LOOP, 0, LEG_NONE);
  if (int err = leg_options_apply(cfd, cfg_.client_leg))
    return reject(id, cfd, client, target, TI_CR_ERROR, err, LEG_CLIENT);
  const char* syscall = nullptr;
  int sfd = tsock_connect(client, target, cfg_.out, &syscall);
  if (sfd < 0) {
    bool at_connect = strcmp(syscall, "connect") == 0;
    return reject(id, cfd, client, target, at_connect ? connect_failure_reason(-sfd) : TI_CR_ERROR,
                  -sfd, LEG_SERVER);
  }

  conn* c = new conn;
  c->id = id;
  c->cfd = cfd;
  c->sfd = sfd;
  c->client = client;
  c->target = target;
  c->start_us = now_us();
  c->active_ms = uv_now(loop_);
  c->deadline_ms = c->active_ms + cfg_.connect_timeout_ms;
  c->idle_ms = cfg_.idle_timeout_ms;
  if (c->idle_ms) {
    idle_timed_++;
    shortest_idle_ms_ = std::min(shortest_idle_ms_, c->idle_ms);
  }

  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = reinterpret_cast<uintptr_t>(c) | TAG_CLIENT;
  int rc = epoll_ctl(epfd_, EPOLL_CTL_ADD, cfd, &ev);
  ev.data.u64 = reinterpret_cast<uintptr_t>(c) | TAG_SERVER;
  if (rc == 0) rc = epoll_ctl(epfd_, EPOLL_CTL_ADD, sfd, &ev);
  if (rc == -1) {
    int err = errno;
    ::close(sfd);
    delete c;
    return reject(id, cfd, client, target, TI_CR_ERROR, err, LEG_NONE);
  }

  c->next = all_;
  if (all_) all_->prev = c;
  all_ = c;
  connecting_.push(c);
  stats_.active++;
  stats_.connecting++;
}

void engine::on_connected(conn* c) {
  int err = socket_error(c->sfd);
  if (err == EINPROGRESS || err == EALREADY) return;
  if (err) return finish(c, connect_failure_reason(err), err, LEG_SERVER);

  connecting_.remove(c);
  stats_.connecting--;
  c->state = RELAYING;
  c->active_ms = uv_now(loop_);

  open_event e{};
  e.id = c->id;
  e.client = c->client;
  e.target = c->target;
  socklen_t alen = sizeof(e.local);
  getsockname(c->sfd, &e.local.sa, &alen);
  e.connect_us = now_us() - c->start_us;
  e.inspected = cfg_.inspect;
  if (cfg_.inspect) {
    leg_readback_read(c->cfd, &e.client_leg);
    leg_readback_read(c->sfd, &e.server_leg);
  }
  sink_->on_open(e);
  pump(c);
}

// ---- relay ----

// A socket error is read as soon as epoll reports it: a leg reset after its direction finished
// (request and FIN, then RST) would otherwise go unseen for as long as the other peer is silent.
void engine::on_ready(conn* c, leg_side side, uint32_t events) {
  if (side != c->dead && (events & (EPOLLERR | EPOLLHUP))) {
    if (int err = socket_error(side == LEG_CLIENT ? c->cfd : c->sfd)) return leg_failed(c, side, err);
  }
  pump(c);
}

// Moves bytes of one direction until the source is empty, the destination is full, or the
// turn's budget is spent. Returns 0 with the bytes delivered in <*moved>, or an errno with
// <*failed> naming the leg whose socket failed (LEG_NONE: a local shortage such as EMFILE).
// Sets <*starved> when bytes wait but no pipe could be made for them. A dead source's reads end
// with its queue (its error was taken already), and its end is no FIN: the other peer gets a reset.
int engine::pump_dir(conn* c, bool c2s, uint64_t* moved, leg_side* failed, bool* starved) {
  relay_dir& d = c2s ? c->c2s : c->s2c;
  int src = c2s ? c->cfd : c->sfd;
  int dst = c2s ? c->sfd : c->cfd;
  uint8_t& src_ready = c2s ? c->cready : c->sready;
  uint8_t& dst_ready = c2s ? c->sready : c->cready;
  leg_side src_leg = c2s ? LEG_CLIENT : LEG_SERVER;
  leg_side dst_leg = c2s ? LEG_SERVER : LEG_CLIENT;
  uint64_t& counter = c2s ? stats_.c2s_bytes : stats_.s2c_bytes;
  uint64_t& total = *moved;
  total = 0;
  *failed = LEG_NONE;

  for (;;) {
    bool progress = false;
    if (!d.src_eof && (src_ready & RD)) {
      if (!d.pipe && !(d.pipe = pipes_.get())) {
        // No fd for a pipe: wait for one (the timer retries) instead of failing a healthy
        // connection over a passing shortage.
        if (errno != EMFILE && errno != ENFILE && errno != ENOMEM) return errno;
        *starved = true;
        break;
      }
      uint32_t room = std::min(d.pipe->capacity, cfg_.buffer_size);
      if (d.pending < room) {
        ssize_t n = splice(src, nullptr, d.pipe->wr, nullptr, room - d.pending,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
          d.pending += static_cast<uint32_t>(n);
          progress = true;
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR && c->dead == src_leg)) {
          d.src_eof = true;
          progress = true;
        } else if (errno == EAGAIN) {
          // With bytes already in the pipe, EAGAIN may mean "pipe full" (its slots hold
          // partial pages), not "socket empty": keep the socket marked readable and retry
          // once the pipe has drained.
          if (d.pending == 0) src_ready &= ~RD;
        } else if (errno != EINTR) {
          *failed = src_leg;
          return errno;
        }
      }
    }
    if (d.pending > 0 && (dst_ready & WR)) {
      ssize_t n = splice(d.pipe->rd, nullptr, dst, nullptr, d.pending,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        d.pending -= static_cast<uint32_t>(n);
        d.bytes += static_cast<uint64_t>(n);
        total += static_cast<uint64_t>(n);
        counter += static_cast<uint64_t>(n);
        progress = true;
      } else if (n == -1 && errno == EAGAIN) {
        dst_ready &= ~WR;
      } else if (n == -1 && errno != EINTR) {
        *failed = dst_leg;
        return errno;
      }
    }
    if (d.pending == 0 && d.pipe) {
      pipes_.put(d.pipe, true);
      d.pipe = nullptr;
    }
    if (d.src_eof && d.pending == 0 && !d.dst_shut && c->dead != src_leg) {
      shutdown(dst, SHUT_WR);
      d.dst_shut = true;
    }
    if (!progress || total >= kPumpBudget) break;
  }
  return 0;
}

void engine::pump(conn* c) {
  if (c->dead) return salvage(c);
  uint64_t c2s = 0, s2c = 0;
  leg_side failed = LEG_NONE;
  bool starved = false;
  int err = pump_dir(c, true, &c2s, &failed, &starved);
  if (!err) err = pump_dir(c, false, &s2c, &failed, &starved);
  if (err) return leg_failed(c, failed, err);
  if (c2s | s2c) c->active_ms = uv_now(loop_);
  if (c->c2s.done() && c->s2c.done()) return finish(c, TI_CR_EOF, 0, LEG_NONE);
  if (starved) {
    // A short shortage is waited out; a long one means every fd is held by connections that
    // each wait for a pipe, and only giving some up lets the others move.
    uint64_t now = uv_now(loop_);
    if (!c->starved_since_ms) c->starved_since_ms = now;
    if (now - c->starved_since_ms >= kStarveMs) return finish(c, TI_CR_ERROR, EMFILE, LEG_NONE);
    return retry_later(c, RETRY_PARKED);
  }
  c->starved_since_ms = 0;
  if (c2s >= kPumpBudget || s2c >= kPumpBudget) retry_later(c, RETRY_READY);
}

// A peer's reset ends its leg, but what it sent before is ours to deliver: it was acknowledged
// to it, and without the proxy the other peer would have received it before the reset. So the
// dead leg's receive queue and the pipe go on to the other peer, which is reset once it has
// acknowledged them (or after kSalvageMs). Bytes towards the dead leg have nowhere to go.
void engine::leg_failed(conn* c, leg_side side, int err) {
  if (side == LEG_NONE) return finish(c, TI_CR_ERROR, err, LEG_NONE);
  if (c->dead) return finish(c, leg_failure_reason(c->dead_err, c->dead), c->dead_err, c->dead);
  if (leg_failure_reason(err, side) == TI_CR_ERROR) return finish(c, TI_CR_ERROR, err, side);
  c->dead = side;
  c->dead_err = err;
  c->salvage_until_ms = uv_now(loop_) + kSalvageMs;
  relay_dir& lost = side == LEG_CLIENT ? c->s2c : c->c2s;
  if (lost.pipe) pipes_.put(lost.pipe, false);
  lost.pipe = nullptr;
  lost.pending = 0;
  (side == LEG_CLIENT ? c->cready : c->sready) |= RD;
  salvage(c);
}

void engine::salvage(conn* c) {
  bool c2s = c->dead == LEG_CLIENT;
  const relay_dir& d = c2s ? c->c2s : c->s2c;
  uint64_t moved = 0;
  leg_side failed = LEG_NONE;
  bool starved = false;
  int err = pump_dir(c, c2s, &moved, &failed, &starved);
  close_reason r = leg_failure_reason(c->dead_err, c->dead);
  if (err) return finish(c, r, c->dead_err, c->dead);
  bool delivered = d.src_eof && d.pending == 0 && unacked(c2s ? c->sfd : c->cfd) == 0;
  if (delivered || uv_now(loop_) >= c->salvage_until_ms) return finish(c, r, c->dead_err, c->dead);
  retry_later(c, moved >= kPumpBudget ? RETRY_READY : RETRY_PARKED);
}

void engine::unlink(conn* c) {
  if (c->prev) c->prev->next = c->next;
  else all_ = c->next;
  if (c->next) c->next->prev = c->prev;
  if (c->state == CONNECTING) {
    connecting_.remove(c);
    stats_.connecting--;
  }
  if (c->idle_ms) idle_timed_--;
  stats_.active--;
}

close_event engine::snapshot(const conn* c) const {
  close_event e{};
  e.id = c->id;
  e.opened = c->state == RELAYING;
  e.client = c->client;
  e.target = c->target;
  e.c2s_bytes = c->c2s.bytes;
  e.s2c_bytes = c->s2c.bytes;
  e.duration_us = now_us() - c->start_us;
  leg_tcp_info_read(c->cfd, &e.client_info);
  if (e.opened) leg_tcp_info_read(c->sfd, &e.server_info);
  return e;
}

std::vector<close_event> engine::sample(uint64_t min_age_ms, uint32_t slice, uint32_t slices) const {
  std::vector<close_event> out;
  uint64_t now = now_us();
  for (const conn* c = all_; c; c = c->next)
    if (c->id % slices == slice && c->state == RELAYING && now - c->start_us >= min_age_ms * 1000) out.push_back(snapshot(c));
  return out;
}

void engine::finish(conn* c, close_reason r, int err, leg_side side) {
  close_event e = snapshot(c);
  e.reason = r;
  e.err = err;
  e.err_leg = side;

  // Bytes still in a pipe are dropped with the reset: they were never delivered.
  if (r == TI_CR_EOF) {
    ::close(c->cfd);
    ::close(c->sfd);
  } else {
    tsock_reset_close(c->cfd);
    tsock_reset_close(c->sfd);
  }
  if (c->c2s.pipe) pipes_.put(c->c2s.pipe, c->c2s.pending == 0);
  if (c->s2c.pipe) pipes_.put(c->s2c.pipe, c->s2c.pending == 0);
  c->c2s.pipe = c->s2c.pipe = nullptr;
  unlink(c);
  c->state = CLOSED;
  graveyard_.push_back(c);
  sink_->on_close(e);
}

void engine::abort_all() {
  while (all_) finish(all_, TI_CR_SHUTDOWN, 0, LEG_NONE);
  for (conn* c : graveyard_) delete c;
  graveyard_.clear();
  for (std::vector<conn*>& list : retries_) list.clear();
}

void engine::close() {
  if (closing_) return;
  closing_ = true;
  stop_listening();
  abort_all();
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), on_handle_closed);
}

void engine::on_handle_closed(uv_handle_t* h) {
  engine* e = static_cast<engine*>(h->data);
  if (--e->open_handles_ == 0) delete e;
}
