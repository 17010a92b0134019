#include "pipe-pool.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

pipe_pool::~pipe_pool() {
  while (free_) {
    pipe_pair* p = free_;
    free_ = p->next;
    destroy(p);
  }
}

void pipe_pool::destroy(pipe_pair* p) {
  close(p->rd);
  close(p->wr);
  delete p;
}

pipe_pair* pipe_pool::get() {
  if (free_) {
    pipe_pair* p = free_;
    free_ = p->next;
    nfree_--;
    in_use_++;
    return p;
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1) return nullptr;
  int capacity = fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(size_));
  if (capacity == -1) {
    undersized_++;
    capacity = fcntl(fds[1], F_GETPIPE_SZ);
  }
  pipe_pair* p = new pipe_pair{fds[0], fds[1], static_cast<uint32_t>(capacity), nullptr};
  in_use_++;
  return p;
}

void pipe_pool::put(pipe_pair* p, bool empty) {
  in_use_--;
  if (!empty || nfree_ >= keep_ || p->capacity < size_) {
    destroy(p);
    return;
  }
  p->next = free_;
  free_ = p;
  nfree_++;
}

void pipe_pool::set_size(uint32_t size) {
  size_ = size;
  keep_ = kKeptBytes / size > 2 ? kKeptBytes / size : 2;
  while (free_) {
    pipe_pair* p = free_;
    free_ = p->next;
    destroy(p);
  }
  nfree_ = 0;
}
