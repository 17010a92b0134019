/*
 * tcpbench: the load side of the benchmarks, fast enough not to be what is measured.
 *   tcpbench server PORT                        echo every byte back; close on EOF
 *   tcpbench connrate HOST PORT CONC SECONDS    connect, 100-byte request, 100-byte reply, close;
 *                                               CONC at a time; JSON: rate, p50/p99 latency, failures
 *   tcpbench pingpong HOST PORT COUNT           1-byte round trips on one connection (TCP_NODELAY)
 *   tcpbench hold HOST PORT N                   open N idle connections, report, then wait to be killed
 * HOST is a numeric IPv4 or IPv6 address. Results are one JSON line on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ 100

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

static void die(const char* what) {
  perror(what);
  exit(2);
}

static socklen_t parse_addr(const char* host, int port, struct sockaddr_storage* ss) {
  memset(ss, 0, sizeof(*ss));
  struct sockaddr_in* v4 = (struct sockaddr_in*)ss;
  struct sockaddr_in6* v6 = (struct sockaddr_in6*)ss;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return sizeof(*v4);
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return sizeof(*v6);
  }
  fprintf(stderr, "tcpbench: '%s' is not a numeric address\n", host);
  exit(64);
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t* v, size_t n, double p) {
  if (!n) return 0;
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return v[i];
}

/* ---- server: echo ---- */
static __attribute__((noreturn)) void server(int port) {
  int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1, zero = 0;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
  struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
  if (bind(lfd, (struct sockaddr*)&a, sizeof(a)) || listen(lfd, 65535)) die("bind/listen");
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  printf("listening %d\n", port);
  fflush(stdout);
  struct epoll_event evs[256];
  char buf[65536];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      ssize_t r = read(fd, buf, sizeof(buf));
      if (r > 0) {
        ssize_t off = 0;
        while (off < r) {
          ssize_t w = write(fd, buf + off, r - off);
          if (w > 0) off += w;
          else if (w < 0 && errno == EAGAIN) poll(&(struct pollfd){fd, POLLOUT, 0}, 1, 1000);
          else break;
        }
      } else if (r == 0 || errno != EAGAIN) {
        close(fd);
      }
    }
  }
}

/* ---- connrate ---- */
struct slot {
  int fd;
  int got;
  uint64_t t0;
};

static int start_conn(int ep, struct slot* s, int idx, struct sockaddr_storage* dst, socklen_t len) {
  s->fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s->fd < 0) return -1;
  s->got = -1; /* -1: connecting */
  s->t0 = now_ns();
  if (connect(s->fd, (struct sockaddr*)dst, len) && errno != EINPROGRESS) {
    close(s->fd);
    s->fd = -1;
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)idx};
  epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev);
  return 0;
}

static int connrate(const char* host, int port, int conc, double seconds) {
  struct sockaddr_storage dst;
  socklen_t len = parse_addr(host, port, &dst);
  int ep = epoll_create1(0);
  struct slot* slots = calloc(conc, sizeof(*slots));
  size_t cap = 1 << 20, n = 0;
  uint64_t* lat = malloc(cap * sizeof(uint64_t));
  uint64_t failures = 0;
  char req[REQ], buf[4096];
  memset(req, 'r', sizeof(req));
  uint64_t t_start = now_ns(), t_end = t_start + (uint64_t)(seconds * 1e9);
  for (int i = 0; i < conc; i++)
    if (start_conn(ep, &slots[i], i, &dst, len)) failures++;
  struct epoll_event evs[512];
  int running = 1;
  while (running) {
    int k = epoll_wait(ep, evs, 512, 100);
    uint64_t t = now_ns();
    if (t >= t_end) running = 0;
    for (int i = 0; i < k; i++) {
      int idx = (int)evs[i].data.u32;
      struct slot* s = &slots[idx];
      if (s->fd < 0) continue;
      int done = 0, failed = 0;
      if (s->got < 0) {
        int err = 0;
        socklen_t el = sizeof(err);
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) failed = 1;
        else if (evs[i].events & EPOLLOUT) {
          if (write(s->fd, req, REQ) != REQ) failed = 1;
          s->got = 0;
          struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)idx};
          epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
        }
      } else {
        ssize_t r = read(s->fd, buf, sizeof(buf));
        if (r > 0) {
          s->got += (int)r;
          if (s->got >= REQ) done = 1;
        } else if (r == 0 || errno != EAGAIN) {
          failed = 1;
        }
      }
      if (done || failed) {
        close(s->fd);
        s->fd = -1;
        if (failed) failures++;
        else {
          if (n == cap) lat = realloc(lat, (cap *= 2) * sizeof(uint64_t));
          lat[n++] = (now_ns() - s->t0) / 1000;
        }
        if (running && start_conn(ep, s, idx, &dst, len)) failures++;
      }
    }
  }
  double elapsed = (double)(now_ns() - t_start) / 1e9;
  qsort(lat, n, sizeof(uint64_t), cmp_u64);
  printf("{\"connections\":%zu,\"failures\":%llu,\"seconds\":%.3f,\"rate\":%.1f,\"p50Us\":%llu,\"p99Us\":%llu}\n", n,
         (unsigned long long)failures, elapsed, (double)n / elapsed, (unsigned long long)pct(lat, n, 0.5),
         (unsigned long long)pct(lat, n, 0.99));
  return 0;
}

/* ---- pingpong ---- */
static int pingpong(const char* host, int port, int count) {
  struct sockaddr_storage dst;
  socklen_t len = parse_addr(host, port, &dst);
  int fd = socket(dst.ss_family, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, (struct sockaddr*)&dst, len)) die("connect");
  uint64_t* lat = malloc((size_t)count * sizeof(uint64_t));
  char c = 'p';
  for (int i = 0; i < count + 100; i++) {
    uint64_t t0 = now_ns();
    if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) die("pingpong");
    if (i >= 100) lat[i - 100] = (now_ns() - t0) / 1000; /* the first 100 warm up */
  }
  close(fd);
  qsort(lat, (size_t)count, sizeof(uint64_t), cmp_u64);
  printf("{\"count\":%d,\"p50Us\":%llu,\"p99Us\":%llu}\n", count, (unsigned long long)pct(lat, (size_t)count, 0.5),
         (unsigned long long)pct(lat, (size_t)count, 0.99));
  return 0;
}

/* ---- hold ---- */
static __attribute__((noreturn)) void hold(const char* host, int port, int count) {
  struct sockaddr_storage dst;
  socklen_t len = parse_addr(host, port, &dst);
  int* fds = malloc((size_t)count * sizeof(int));
  int failures = 0;
  for (int i = 0; i < count; i++) {
    fds[i] = socket(dst.ss_family, SOCK_STREAM, 0);
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr*)&dst, len)) failures++;
  }
  printf("{\"held\":%d,\"failures\":%d}\n", count - failures, failures);
  fflush(stdout);
  for (;;) pause();
}

int main(int argc, char** argv) {
  if (argc >= 3 && !strcmp(argv[1], "server")) server(atoi(argv[2]));
  if (argc >= 6 && !strcmp(argv[1], "connrate")) return connrate(argv[2], atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
  if (argc >= 5 && !strcmp(argv[1], "pingpong")) return pingpong(argv[2], atoi(argv[3]), atoi(argv[4]));
  if (argc >= 5 && !strcmp(argv[1], "hold")) hold(argv[2], atoi(argv[3]), atoi(argv[4]));
  fprintf(stderr, "usage: tcpbench server PORT | connrate HOST PORT CONC SECONDS | pingpong HOST PORT COUNT | hold HOST PORT N\n");
  return 64;
}
