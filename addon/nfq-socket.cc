#include "nfq-socket.h"

#include <algorithm>

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <poll.h>
#include <string.h>
#include <time.h>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

namespace {

// Netlink and attribute headers around a copied packet: generous, so a full copy always fits.
constexpr size_t kMessageOverhead = 1024;
constexpr size_t kFlushAt = 512u << 10;
constexpr size_t kVerdictRoom = 256;   // one verdict message without payload, rounded up
constexpr uint32_t kSendBuffer = 4u << 20;
// A configuration request's acknowledgement: sent again after this long without it, given up after.
constexpr uint64_t kAckRetryMs = 100;
constexpr uint64_t kAckWaitMs = 2000;

uint64_t now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

uint32_t be32_attr(nlattr* const* attr, int type, uint32_t missing = 0) {
  return attr[type] ? ntohl(mnl_attr_get_u32(attr[type])) : missing;
}

uint16_t queue_of(const nlmsghdr* nlh) {
  return ntohs(static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh))->res_id);
}

uint64_t held_key(uint16_t queue, uint32_t id) { return uint64_t{queue} << 32 | id; }

bool is_packet(const nlmsghdr* nlh) {
  return NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_QUEUE && NFNL_MSG_TYPE(nlh->nlmsg_type) == NFQNL_MSG_PACKET;
}

}  // namespace

nfq_socket::nfq_socket(const nfq_config& cfg) : cfg_(cfg) {
  if (cfg_.batch == 0) cfg_.batch = 1;
  slot_size_ = (cfg_.copy_range + kMessageOverhead + 7) & ~size_t{7};
  area_.resize(slot_size_ * cfg_.batch);
  msgs_.resize(cfg_.batch);
  iovs_.resize(cfg_.batch);
  // recvmmsg writes back only msg_len (no name or control buffers), so this is set up once.
  for (uint32_t i = 0; i < cfg_.batch; i++) {
    iovs_[i] = {area_.data() + i * slot_size_, slot_size_};
    msgs_[i] = {};
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
  packets_.reserve(cfg_.batch);
}

nfq_socket::~nfq_socket() {
  if (nl_) mnl_socket_close(nl_);
}

int nfq_socket::fd() const { return nl_ ? mnl_socket_get_fd(nl_) : -1; }

int nfq_socket::open(uint16_t first, uint16_t last, const char** step, uint16_t* at) {
  first_ = first;
  count_ = uint32_t{last} - first + 1;
  held_in_.assign(count_, 0);
  runs_.assign(count_, {});
  *at = first;
  *step = "socket";
  nl_ = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (!nl_) return -errno;
  *step = "bind";
  if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) return -errno;
  int size = static_cast<int>(cfg_.rcvbuf);
  *step = "setsockopt SO_RCVBUF";
  if (setsockopt(fd(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) == -1 &&
      setsockopt(fd(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size) == -1)
    return -errno;
  size = kSendBuffer;
  if (setsockopt(fd(), SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) == -1)
    setsockopt(fd(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  // What the kernel granted (SO_SNDBUF alone is capped by wmem_max): a datagram must stay 32 bytes under it.
  socklen_t optlen = sizeof size;
  if (getsockopt(fd(), SOL_SOCKET, SO_SNDBUF, &size, &optlen) == 0 && size > 1024)
    send_limit_ = std::min(send_limit_, static_cast<size_t>(size) - 64);
  for (uint32_t q = first; q <= last; q++) {
    *at = static_cast<uint16_t>(q);
    if (int rc = configure(*at, step)) return rc;
  }
  return 0;
}

int nfq_socket::configure(uint16_t queue, const char** step) {
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
  nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
  if (int rc = request(buf, step, "bind queue", EBUSY)) return rc;
  bound_++;   // queues first_ .. first_ + bound_ - 1 are ours to let go of at shutdown
  nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
  nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, static_cast<int>(cfg_.copy_range));
  nfq_nlmsg_cfg_put_qmaxlen(nlh, cfg_.max_len);
  uint32_t flags = (cfg_.gso ? NFQA_CFG_F_GSO : 0) | (cfg_.fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
  mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
  mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN));
  return request(buf, step, "configure queue", 0);
}

// Sends one configuration message and waits for its acknowledgement, never blocking. The kernel
// handles the request inside sendto, so by then its acknowledgement is in our socket, or was
// dropped because the socket was full (ENOBUFS, reported once per overflow). Packets read in
// between are accepted at once (the queue exists from the bind on), so none is left without a
// verdict. An acknowledgement not found once the socket is empty, or after ENOBUFS, or after
// kAckRetryMs, was lost: the request goes again. Each is idempotent, except that a bind or unbind
// that already took answers <repeat_ok> (EBUSY, ENODEV) when repeated. -ETIMEDOUT after kAckWaitMs.
int nfq_socket::request(void* buf, const char** step, const char* what, int repeat_ok) {
  *step = what;
  nlmsghdr* nlh = static_cast<nlmsghdr*>(buf);
  nlh->nlmsg_flags |= NLM_F_ACK;
  ack_wait ack{seq_ + 1, repeat_ok, 1};
  const uint64_t deadline = now_ms() + kAckWaitMs;
  for (uint64_t sent_at = 0, now = now_ms(); now < deadline; now = now_ms()) {
    if (!sent_at || now - sent_at >= kAckRetryMs) {
      nlh->nlmsg_seq = ++seq_;
      if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return -errno;
      sent_at = now;
    }
    ssize_t n = recv(fd(), area_.data(), area_.size(), MSG_DONTWAIT);
    if (n > 0) {
      packets_.clear();
      read_messages(area_.data(), static_cast<int>(n), &ack);
      accept_received();
      flush();
      if (ack.result != 1) return ack.result;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) stats_.enobufs++;
    else if (n < 0 && errno != EAGAIN) return -errno;
    // The socket is empty, or messages were dropped: the acknowledgement is lost. A short wait
    // keeps a kernel that never answers from turning this into a busy loop.
    pollfd pfd{fd(), POLLIN, 0};
    poll(&pfd, 1, 1);
    sent_at = 0;
  }
  return -ETIMEDOUT;
}

int nfq_socket::receive() {
  packets_.clear();
  int n;
  for (;;) {
    n = recvmmsg(fd(), msgs_.data(), cfg_.batch, MSG_DONTWAIT, nullptr);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return 0;
    stats_.last_error = errno;
    if (errno == ENOBUFS) {   // the kernel could not deliver some packets; the socket still works
      stats_.enobufs++;
      continue;
    }
    stats_.recv_errors++;
    return -errno;
  }
  for (int i = 0; i < n; i++) read_messages(area_.data() + i * slot_size_, static_cast<int>(msgs_[i].msg_len), nullptr);
  if (!packets_.empty()) stats_.batches++;
  return static_cast<int>(packets_.size());
}

// Packets go to packets_; an error message answering the request <ack> waits for goes to it, any
// other error is a refused verdict.
void nfq_socket::read_messages(uint8_t* base, int len, ack_wait* ack) {
  for (const nlmsghdr* m = reinterpret_cast<const nlmsghdr*>(base); mnl_nlmsg_ok(m, len); m = mnl_nlmsg_next(m, &len)) {
    if (m->nlmsg_type == NLMSG_ERROR) {
      int err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m))->error;
      if (m->nlmsg_seq != 0) {   // configuration requests count from 1, verdicts go with 0
        // An answer to a request given up on, or to an earlier copy of one answered already, is stale.
        if (ack && ack->result == 1 && m->nlmsg_seq - ack->first_seq <= seq_ - ack->first_seq)
          ack->result = m->nlmsg_seq != ack->first_seq && err == -ack->repeat_ok ? 0 : err;
      } else if (err) {
        stats_.verdict_errors++;
        stats_.last_error = -err;
      }
      continue;
    }
    if (!is_packet(m) || !owns(queue_of(m))) continue;
    nlattr* attr[NFQA_MAX + 1] = {};
    if (nfq_nlmsg_parse(m, attr) < 0 || !attr[NFQA_PACKET_HDR]) continue;
    auto* ph = static_cast<nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
    nfq_packet p{};
    p.id = ntohl(ph->packet_id);
    p.queue = queue_of(m);
    if (attr[NFQA_PAYLOAD]) {
      p.offset = static_cast<uint32_t>(static_cast<uint8_t*>(mnl_attr_get_payload(attr[NFQA_PAYLOAD])) - area_.data());
      p.length = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
    }
    p.orig_length = be32_attr(attr, NFQA_CAP_LEN, p.length);
    p.mark = be32_attr(attr, NFQA_MARK);
    p.indev = be32_attr(attr, NFQA_IFINDEX_INDEV);
    p.outdev = be32_attr(attr, NFQA_IFINDEX_OUTDEV);
    uint32_t skb = be32_attr(attr, NFQA_SKB_INFO);
    uint32_t flags = (skb & NFQA_SKB_GSO ? NFQ_GSO : 0) | (skb & NFQA_SKB_CSUMNOTREADY ? NFQ_CSUM_NOT_READY : 0) |
                     (skb & NFQA_SKB_CSUM_NOTVERIFIED ? NFQ_CSUM_NOT_VERIFIED : 0) |
                     (p.orig_length > p.length ? NFQ_TRUNCATED : 0);
    p.info = ntohs(ph->hw_protocol) | static_cast<uint32_t>(ph->hook) << NFQ_INFO_HOOK_SHIFT | flags << NFQ_INFO_FLAGS_SHIFT;
    packets_.push_back(p);
    stats_.packets++;
    stats_.bytes += p.orig_length;
    if (flags & NFQ_GSO) stats_.gso++;
    if (flags & NFQ_CSUM_NOT_READY) stats_.csum_not_ready++;
    if (flags & NFQ_TRUNCATED) stats_.truncated++;
  }
}

void nfq_socket::settle(const uint8_t* codes, uint8_t fallback) {
  auto effective = [&](size_t i) { return codes[i] == NFQ_V_DEFAULT ? fallback : codes[i]; };
  size_t n = packets_.size();
  // A queue with nothing held has every queued id up to the end of this batch's all-accept prefix
  // (of that queue's packets) in this batch, so one batch verdict covers the prefix (it must end
  // on a packet still queued).
  for (const nfq_packet& p : packets_) runs_[p.queue - first_] = {held_in_[p.queue - first_] == 0, false, 0, 0};
  for (size_t k = 0; k < n; k++) {
    accept_run& r = runs_[packets_[k].queue - first_];
    if (!r.open) continue;
    uint8_t code = effective(k);
    if (code == NFQ_V_ACCEPT) {
      r.end = static_cast<uint32_t>(k + 1);
      r.accepts++;
    } else if (code != NFQ_V_DONE) {
      r.open = false;
    }
  }
  for (size_t i = 0; i < n; i++) {
    const nfq_packet& p = packets_[i];
    accept_run& r = runs_[p.queue - first_];
    uint8_t code = effective(i);
    if (r.accepts >= 2 && i < r.end) {
      if (!r.sent) {
        append_batch_verdict(p.queue, packets_[r.end - 1].id, NF_ACCEPT);
        r.sent = true;
      }
      stats_.accepted += code == NFQ_V_ACCEPT;
      continue;
    }
    switch (code) {
      case NFQ_V_HELD:
        held_.insert(held_key(p.queue, p.id));
        held_in_[p.queue - first_]++;
        break;
      case NFQ_V_DROP:
        append_verdict(p.queue, p.id, NF_DROP, false, 0, nullptr, 0);
        stats_.dropped++;
        break;
      case NFQ_V_DONE:
        break;
      default:
        append_verdict(p.queue, p.id, NF_ACCEPT, false, 0, nullptr, 0);
        stats_.accepted++;
    }
  }
}

bool nfq_socket::release(uint16_t queue, uint32_t id, uint8_t code, bool mark_set, uint32_t mark,
                         const uint8_t* data, size_t len) {
  if (!held_.erase(held_key(queue, id))) return false;
  held_in_[queue - first_]--;
  send_verdict(queue, id, code, mark_set, mark, data, len);
  return true;
}

void nfq_socket::accept_in_batch(size_t index, bool mark_set, uint32_t mark, const uint8_t* data, size_t len) {
  const nfq_packet& p = packets_[index];
  send_verdict(static_cast<uint16_t>(p.queue), p.id, NFQ_V_ACCEPT, mark_set, mark, data, len);
}

void nfq_socket::send_verdict(uint16_t queue, uint32_t id, uint8_t code, bool mark_set, uint32_t mark,
                              const uint8_t* data, size_t len) {
  bool drop = code == NFQ_V_DROP;
  append_verdict(queue, id, drop ? NF_DROP : NF_ACCEPT, mark_set, mark, data, len);
  if (drop) stats_.dropped++;
  else stats_.accepted++;
  if (data) stats_.replaced++;
}

int nfq_socket::shutdown(const char** step) {
  if (!nl_) return 0;
  alignas(nlmsghdr) char buf[MNL_SOCKET_BUFFER_SIZE];
  int first_error = 0;
  const char* failed;
  auto keep_first = [&](int rc) {
    if (rc && !first_error) {
      first_error = rc;
      *step = failed;
    }
  };
  for (uint32_t i = 0; i < bound_; i++) {
    nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, first_ + i);
    nfq_nlmsg_cfg_put_qmaxlen(nlh, 0);
    mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
    mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
    keep_first(request(buf, &failed, "configure queue fail-open", 0));
  }
  release_held();
  for (uint32_t i = 0; i < bound_; i++) {
    nlmsghdr* nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, first_ + i);
    nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
    keep_first(request(buf, &failed, "unbind queue", ENODEV));
  }
  bound_ = 0;
  return first_error;
}

// Accepts what is waiting and what is held. Bounded: if the queue could not be made fail-open,
// packets keep coming, and closing the socket lets the kernel drop the rest.
void nfq_socket::release_held() {
  const uint64_t deadline = now_ms() + kAckWaitMs;
  for (int n; now_ms() < deadline && (n = receive()) > 0;) {
    accept_received();
    flush();
  }
  for (uint64_t key : held_) append_verdict(static_cast<uint16_t>(key >> 32), static_cast<uint32_t>(key), NF_ACCEPT, false, 0, nullptr, 0);
  stats_.accepted += held_.size();
  held_.clear();
  held_in_.assign(count_, 0);
  flush();
}

void nfq_socket::accept_received() {
  for (const nfq_packet& p : packets_) append_verdict(p.queue, p.id, NF_ACCEPT, false, 0, nullptr, 0);
  stats_.accepted += packets_.size();
  packets_.clear();
}

void nfq_socket::append_verdict(uint16_t queue, uint32_t id, uint32_t verdict, bool mark_set, uint32_t mark,
                                const uint8_t* data, size_t len) {
  if (out_.size() >= kFlushAt) flush();
  size_t at = out_.size();
  out_.resize(at + kVerdictRoom + MNL_ALIGN(len));
  nlmsghdr* nlh = nfq_nlmsg_put(reinterpret_cast<char*>(out_.data() + at), NFQNL_MSG_VERDICT, queue);
  nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), static_cast<int>(verdict));
  if (mark_set) nfq_nlmsg_verdict_put_mark(nlh, mark);
  if (data) nfq_nlmsg_verdict_put_pkt(nlh, data, static_cast<uint32_t>(len));
  out_.resize(at + MNL_ALIGN(nlh->nlmsg_len));
}

void nfq_socket::append_batch_verdict(uint16_t queue, uint32_t last_id, uint32_t verdict) {
  if (out_.size() >= kFlushAt) flush();
  size_t at = out_.size();
  out_.resize(at + kVerdictRoom);
  nlmsghdr* nlh = nfq_nlmsg_put(reinterpret_cast<char*>(out_.data() + at), NFQNL_MSG_VERDICT_BATCH, queue);
  nfq_nlmsg_verdict_put(nlh, static_cast<int>(last_id), static_cast<int>(verdict));
  out_.resize(at + MNL_ALIGN(nlh->nlmsg_len));
  stats_.batch_verdicts++;
}

// Sends the verdicts gathered so far, in datagrams of whole messages the send buffer takes
// (netlink refuses a larger one with EMSGSIZE). The kernel handles a netlink request inside
// sendto, so a send either takes all of its messages or none: a refused one (ENOBUFS or ENOMEM
// under memory pressure) keeps its verdicts and those after it for the next flush, and counts.
void nfq_socket::flush() {
  if (out_.empty() || !nl_) return;
  size_t sent = 0;
  while (sent < out_.size()) {
    size_t end = sent;
    while (end < out_.size()) {
      size_t len = MNL_ALIGN(reinterpret_cast<const nlmsghdr*>(out_.data() + end)->nlmsg_len);
      if (end > sent && end + len - sent > send_limit_) break;
      end += len;
    }
    if (mnl_socket_sendto(nl_, out_.data() + sent, end - sent) < 0) {
      stats_.send_errors++;
      stats_.last_error = errno;
      break;
    }
    sent = end;
  }
  out_.erase(out_.begin(), out_.begin() + static_cast<ptrdiff_t>(sent));
}
