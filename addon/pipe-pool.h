// Splice pipes lent to a relay direction only while bytes are in flight, so an idle
// connection holds its two sockets and nothing else.
#pragma once
#include <stddef.h>
#include <stdint.h>

struct pipe_pair {
  int rd, wr;
  uint32_t capacity;   // bytes the pipe holds (F_GETPIPE_SZ)
  pipe_pair* next;     // free-list link
};

class pipe_pool {
 public:
  // <size>: requested pipe capacity. Empty pipes are kept for reuse up to kKeptBytes of
  // capacity: an unprivileged user's pipes may total only 64 MiB (fs.pipe-user-pages-soft),
  // counted by capacity whether or not they hold data.
  explicit pipe_pool(uint32_t size) { set_size(size); }
  ~pipe_pool();

  // An empty pipe, or nullptr with errno set (EMFILE, ENFILE, ...).
  pipe_pair* get();
  // Takes back a pipe; <empty> false means it still holds bytes and is closed, not reused.
  void put(pipe_pair* p, bool empty);

  void set_size(uint32_t size);
  size_t in_use() const { return in_use_; }
  size_t idle() const { return nfree_; }
  // Pipes whose F_SETPIPE_SZ was refused (the per-user pipe quota), which run at 64 KiB.
  uint64_t undersized() const { return undersized_; }

 private:
  static constexpr size_t kKeptBytes = 16u << 20;
  static void destroy(pipe_pair* p);
  uint32_t size_ = 0;
  size_t keep_ = 0;
  pipe_pair* free_ = nullptr;
  size_t nfree_ = 0;
  size_t in_use_ = 0;
  uint64_t undersized_ = 0;
};
