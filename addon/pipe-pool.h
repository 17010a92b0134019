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
  // <size>: requested pipe capacity. <keep_bytes>: capacity kept idle for reuse. Without
  // CAP_SYS_RESOURCE every pipe of the user, idle or not, counts against one quota
  // (fs.pipe-user-pages-soft); past it the kernel refuses F_SETPIPE_SZ and makes 8 KiB pipes,
  // so the caller sizes <keep_bytes> from that quota.
  pipe_pool(uint32_t size, size_t keep_bytes) { configure(size, keep_bytes); }
  ~pipe_pool();

  // An empty pipe, or nullptr with errno set (EMFILE, ENFILE, ...). It may be smaller than
  // requested (counted in undersized()) when the quota refuses the size.
  pipe_pair* get();
  // Takes back a pipe; <empty> false means it still holds bytes and is closed, not reused.
  void put(pipe_pair* p, bool empty);

  // Empties the pool; pipes lent out keep their size.
  void configure(uint32_t size, size_t keep_bytes);
  size_t in_use() const { return in_use_; }
  size_t idle() const { return nfree_; }
  uint64_t bytes_in_use() const { return in_use_bytes_; }
  uint64_t bytes_idle() const { return idle_bytes_; }
  // Pipes lent out below the requested size.
  uint64_t undersized() const { return undersized_; }

 private:
  static void destroy(pipe_pair* p);
  void clear();
  uint32_t size_ = 0;
  size_t keep_bytes_ = 0;
  pipe_pair* free_ = nullptr;
  size_t nfree_ = 0;
  size_t in_use_ = 0;
  uint64_t in_use_bytes_ = 0;
  uint64_t idle_bytes_ = 0;
  uint64_t undersized_ = 0;
};
