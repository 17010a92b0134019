// NFQUEUE queues over one netlink socket (libmnl + libnetfilter_queue's message helpers): one
// queue or a balanced range (iptables --queue-balance FIRST:LAST), binding and configuration,
// batched receive with recvmmsg, and verdicts packed into one send. Packet ids count per queue,
// so a packet is named by its queue and its id.
// No policy here: which verdict a packet gets is the caller's business.
#pragma once
#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <unordered_set>
#include <vector>

struct mnl_socket;

struct nfq_config {
  uint32_t max_len = 4096;        // packets the kernel holds for us (queued and unverdicted)
  uint32_t copy_range = 0xffff;   // bytes of each packet copied to us (kernel caps at 65531)
  bool gso = false;               // NFQA_CFG_F_GSO: take GSO packets whole, checksums maybe not ready
  bool fail_open = false;         // NFQA_CFG_F_FAIL_OPEN: accept instead of drop when we fall behind
  uint32_t rcvbuf = 8u << 20;     // socket receive buffer, bytes (SO_RCVBUFFORCE)
  uint32_t batch = 64;            // packets per receive
};

// A packet's info word: hw protocol in the low 16 bits, the hook and the flags above.
constexpr uint32_t NFQ_INFO_HOOK_SHIFT = 16;
constexpr uint32_t NFQ_INFO_FLAGS_SHIFT = 24;
// Flags in the high byte of a packet's info word.
constexpr uint32_t NFQ_GSO = 1;                // larger than the MTU (F_GSO only)
constexpr uint32_t NFQ_CSUM_NOT_READY = 2;     // transport checksum holds only the pseudo-header sum
constexpr uint32_t NFQ_CSUM_NOT_VERIFIED = 4;  // the kernel has not validated the checksum
constexpr uint32_t NFQ_TRUNCATED = 8;          // copy range shorter than the packet

// One queued packet as handed to JavaScript: u32 words, whose layout JavaScript reads from the
// addon (layouts.packet, see tables.cc).
struct nfq_packet {
  uint32_t id;
  uint32_t offset;        // payload (the IP packet) offset in the receive area
  uint32_t length;        // bytes copied
  uint32_t orig_length;   // bytes on the wire
  uint32_t mark;
  uint32_t indev;
  uint32_t outdev;
  uint32_t info;          // hw protocol | hook << NFQ_INFO_HOOK_SHIFT | flags << NFQ_INFO_FLAGS_SHIFT
  uint32_t queue;
};
static_assert(sizeof(nfq_packet) % sizeof(uint32_t) == 0 && alignof(nfq_packet) == sizeof(uint32_t),
              "JavaScript reads nfq_packet records as a Uint32Array");

// A replacement packet travels in one netlink attribute, whose 16-bit length counts its header.
constexpr size_t NFQ_MAX_REPLACEMENT = 0xffff - sizeof(nlattr);

// Per-packet codes JavaScript writes for a batch: DEFAULT takes the queue's fallback, HELD means a
// verdict() call will come later, DONE that one was already made during the batch.
enum nfq_verdict_code : uint8_t { NFQ_V_DEFAULT = 0, NFQ_V_ACCEPT = 1, NFQ_V_DROP = 2, NFQ_V_HELD = 3, NFQ_V_DONE = 4 };

struct nfq_stats {
  uint64_t packets = 0, bytes = 0, batches = 0;
  uint64_t accepted = 0, dropped = 0, replaced = 0, batch_verdicts = 0;
  uint64_t enobufs = 0, recv_errors = 0, verdict_errors = 0, send_errors = 0;
  uint64_t gso = 0, csum_not_ready = 0, truncated = 0;
  uint32_t held = 0;     // filled in by stats()
  int last_error = 0;   // errno of the latest receive, send or verdict error
};

class nfq_socket {
 public:
  explicit nfq_socket(const nfq_config& cfg);
  ~nfq_socket();
  nfq_socket(const nfq_socket&) = delete;
  nfq_socket& operator=(const nfq_socket&) = delete;

  // Binds and configures queues first..last; 0 or -errno, with the failing step in *step and
  // its queue in *at. After a failure, shutdown() lets go of the queues already bound.
  int open(uint16_t first, uint16_t last, const char** step, uint16_t* at);
  int fd() const;

  // Reads what is waiting (up to cfg.batch packets) into the receive area and packets().
  // Returns the packet count, 0 when nothing was waiting, or -errno on a hard error.
  int receive();
  const std::vector<nfq_packet>& packets() const { return packets_; }
  uint8_t* area() { return area_.data(); }
  size_t area_size() const { return area_.size(); }

  // Verdicts for the packets of the last receive(): codes[i] for packets()[i]. DEFAULT gets
  // <fallback>; HELD packets are recorded as outstanding and need verdict() later.
  void settle(const uint8_t* codes, uint8_t fallback);
  // The verdict of a held packet, optionally with a new mark (mark_set) and a replacement packet
  // (at most NFQ_MAX_REPLACEMENT bytes). False, and nothing sent, when the packet is not held.
  bool release(uint16_t queue, uint32_t id, uint8_t code, bool mark_set, uint32_t mark, const uint8_t* data, size_t len);
  // Accepts packets()[index] of the batch being handled now, with a new mark and/or a replacement.
  void accept_in_batch(size_t index, bool mark_set, uint32_t mark, const uint8_t* data, size_t len);
  // Lets new packets pass the queue untouched (fail-open at length 0), accepts every held packet
  // and every one waiting to be read, then unbinds: closing loses no packet. Bounded in time: 0,
  // or the first failure as -errno (-ETIMEDOUT: the kernel never acknowledged) with its step in
  // *step; the steps after a failure are still tried.
  int shutdown(const char** step);
  // Sends the verdicts gathered so far (datagrams of at most 1 MiB, less if the send buffer is
  // smaller); what the kernel refuses stays gathered for the next flush.
  void flush();

  nfq_stats stats() const {
    nfq_stats s = stats_;
    s.held = static_cast<uint32_t>(held_.size());
    return s;
  }
  bool owns(uint32_t queue) const { return queue - first_ < count_; }

 private:
  // Per queue, while settling a batch: whether its packets so far are all accepted, and up to
  // which packet (exclusive) one batch verdict can cover them.
  struct accept_run {
    bool open;
    bool sent;
    uint32_t end;
    uint32_t accepts;
  };

  // A configuration request waiting for its acknowledgement: sequence numbers from first_seq on
  // (it may be sent again), the errno a repeat answers when the first took, the result (1: none yet).
  struct ack_wait {
    uint32_t first_seq;
    int repeat_ok;
    int result;
  };

  int configure(uint16_t queue, const char** step);
  int request(void* buf, const char** step, const char* what, int repeat_ok);
  void release_held();
  void send_verdict(uint16_t queue, uint32_t id, uint8_t code, bool mark_set, uint32_t mark, const uint8_t* data,
                    size_t len);
  void read_messages(uint8_t* base, int len, ack_wait* ack);
  void accept_received();
  void append_verdict(uint16_t queue, uint32_t id, uint32_t verdict, bool mark_set, uint32_t mark, const uint8_t* data,
                      size_t len);
  void append_batch_verdict(uint16_t queue, uint32_t last_id, uint32_t verdict);

  nfq_config cfg_;
  mnl_socket* nl_ = nullptr;
  uint16_t first_ = 0;
  uint32_t count_ = 0;   // queues in the range
  uint32_t bound_ = 0;   // of which bound so far (all, once open() succeeded)
  uint32_t seq_ = 0;
  size_t slot_size_;
  std::vector<uint8_t> area_;
  std::vector<struct mmsghdr> msgs_;
  std::vector<struct iovec> iovs_;
  std::vector<nfq_packet> packets_;
  std::vector<uint8_t> out_;
  size_t send_limit_ = 1u << 20;   // bytes per verdict datagram
  std::unordered_set<uint64_t> held_;   // queue << 32 | id
  std::vector<uint32_t> held_in_;       // held packets per queue of the range
  std::vector<accept_run> runs_;        // per queue of the range, scratch for settle()
  nfq_stats stats_;
};
