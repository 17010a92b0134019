// Objects waiting for a deadline, earliest first. Deadlines may arrive in any order (a reload
// can shorten a timeout while older objects wait out the longer one), so this is a binary
// min-heap; each object keeps its own slot, so one that leaves early is removed in O(log n).
#pragma once
#include <stddef.h>

#include <vector>

// T has the members uint64_t deadline_ms and size_t heap_slot (owned by the heap while in it).
template <typename T>
class deadline_heap {
 public:
  bool empty() const { return items_.empty(); }
  T* earliest() const { return items_.front(); }

  void push(T* x) {
    place(items_.size(), x);
    up(x->heap_slot);
  }

  void remove(T* x) {
    size_t i = x->heap_slot;
    T* last = items_.back();
    items_.pop_back();
    if (last == x) return;
    place(i, last);
    if (up(i) == i) down(i);
  }

  void clear() { items_.clear(); }

 private:
  bool earlier(size_t a, size_t b) const { return items_[a]->deadline_ms < items_[b]->deadline_ms; }

  void place(size_t i, T* x) {
    if (i == items_.size()) items_.push_back(x);
    else items_[i] = x;
    x->heap_slot = i;
  }

  void swap(size_t a, size_t b) {
    T* x = items_[a];
    place(a, items_[b]);
    place(b, x);
  }

  size_t up(size_t i) {
    while (i > 0 && earlier(i, (i - 1) / 2)) {
      swap(i, (i - 1) / 2);
      i = (i - 1) / 2;
    }
    return i;
  }

  void down(size_t i) {
    for (;;) {
      size_t first = i, l = 2 * i + 1, r = l + 1;
      if (l < items_.size() && earlier(l, first)) first = l;
      if (r < items_.size() && earlier(r, first)) first = r;
      if (first == i) return;
      swap(i, first);
      i = first;
    }
  }

  std::vector<T*> items_;
};
