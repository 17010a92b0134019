#include "pipe-pool.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

pipe_pool::~pipe_pool() { clear(); }

void pipe_pool::destroy(pipe_pair* p) {
  close(p->rd);
  close(p->wr);
  delete p;
}

void pipe_pool::clear() {
  while (free_) {
    pipe_pair* p = free_;
    free_ = p->next;
    destroy(p);
  }
  nfree_ = 0;
  idle_bytes_ = 0;
}

pipe_pair* pipe_pool::get() {
  pipe_pair* p = free_;
  if (p) {
    free_ = p->next;
    nfree_--;
    idle_bytes_ -= p->capacity;
  } else {
    int fds[2];
    if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) return nullptr;
    p = new pipe_pair{fds[0], fds[1], 0, nullptr};
  }
  // A pipe kept undersized is grown again on reuse: the quota may have room by now.
  if (p->capacity < size_) {
    int capacity = fcntl(p->wr, F_SETPIPE_SZ, static_cast<int>(size_));
    if (capacity == -1) {
      undersized_++;
      capacity = p->capacity ? static_cast<int>(p->capacity) : fcntl(p->wr, F_GETPIPE_SZ);
    }
    p->capacity = static_cast<uint32_t>(capacity);
  }
  in_use_++;
  in_use_bytes_ += p->capacity;
  return p;
}

void pipe_pool::put(pipe_pair* p, bool empty) {
  in_use_--;
  in_use_bytes_ -= p->capacity;
  if (!empty || idle_bytes_ + p->capacity > keep_bytes_) {
    destroy(p);
    return;
  }
  p->next = free_;
  free_ = p;
  nfree_++;
  idle_bytes_ += p->capacity;
}

void pipe_pool::configure(uint32_t size, size_t keep_bytes) {
  size_ = size;
  keep_bytes_ = keep_bytes;
  clear();
}
