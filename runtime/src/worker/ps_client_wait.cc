// PsClient's wait for an operation's answers (Await) and what it waits in: libzmq's blocking
// receive on the one socket everything in flight waits on (SoleSocketWait), or one poll(2) on
// every socket's, monitor's and direct link's signal (PollSignals). See ps_client.h.
#include "ringtrain/worker/ps_client.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace ringtrain::worker {

using Clock = std::chrono::steady_clock;

Status PsClient::Await(Pending* pending, std::span<float> params, int64_t* version_out,
                       proto::ServerStats* stats_out) {
  const auto deadline = Clock::now() + options_.timeout;
  const size_t n = sockets_.size();
  std::vector<zmq::message_t>& frames = reply_frames_;
  while (pending->busy()) {
    // A broken connection is said once the operation still waits for the server after what the
    // server sent before it went away has been read (below: its socket is read as soon as the
    // break is known).
    for (size_t s = 0; s < n; ++s) {
      if (links_[s].loss_unsaid && pending->Needs(static_cast<int>(s))) {
        SayLost(static_cast<int>(s));
      }
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      const int server = pending->requests.empty() ? pending->resend.begin()->first
                                                   : pending->requests.begin()->second.server;
      const Link& link = links_[static_cast<size_t>(server)];
      const std::string who = "parameter server " + std::to_string(server) + " (" +
                              options_.endpoints[static_cast<size_t>(server)] + ")";
      if (link.down) {
        const auto gone = std::chrono::duration_cast<std::chrono::seconds>(now - link.down_since);
        return Unavailable(who + " lost: its connection broke " + std::to_string(gone.count()) +
                           " s ago and it has not come back within the " +
                           std::to_string(options_.timeout.count()) + " ms timeout");
      }
      return DeadlineExceeded("no reply from " + who + " within " +
                              std::to_string(options_.timeout.count()) + " ms");
    }
    // Rounded up: a wait cut to whole milliseconds downwards would give up before the timeout.
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    // Failover: a lost server's requests are detoured at least every detour_retry.
    if (options_.detours) left = std::min(left, options_.detour_retry);
    // Connection events first: a reply from a server that came back is only handled once the
    // requests in flight to it have been dropped (Rejoin).
    auto drain_events = [&]() -> Status {
      for (size_t i = 0; i < n; ++i) {
        if (links_[i].events_unread) {
          RT_RETURN_IF_ERROR(DrainLinkEvents(static_cast<int>(i), pending));
        }
      }
      return Status::Ok();
    };
    // Set when the wait on one socket found its connection broken: the pass below reads on.
    bool read_on = false;
    if (const int only = SoleSocketWait(*pending); only >= 0) {
      // Everything in flight waits for one socket's replies, and nothing else is unread:
      // libzmq's own blocking receive, as the server's Serve() waits. It wakes straight into
      // the reply, where a poll of the socket's signal, a receive after it and a read to the
      // end of the queue make three system calls more a round trip (about 1 us each here: as
      // much as all of the protocol's own work). The monitors are looked at when the wait
      // ends without a reply (at most kSoleWaitSlice apart) and before a reply from a process
      // this socket has not answered from before.
      const auto i = static_cast<size_t>(only);
      const auto wait = std::min<std::chrono::milliseconds>(left, kSoleWaitSlice);
      bool received = false;
      try {
        sockets_[i].set(zmq::sockopt::rcvtimeo, static_cast<int>(wait.count()));
      } catch (const zmq::error_t& e) {
        return Internal(std::string("setting a receive timeout: ") + e.what());
      }
      RT_RETURN_IF_ERROR(
          transport::ReceiveMultipart(sockets_[i], &frames, &received, /*wait=*/true));
      // Whatever else is queued is read by the next wait, or by a poll's pass to the end.
      links_[i].replies_unread = true;
      if (!received) {
        RT_RETURN_IF_ERROR(PollSignals(/*sockets=*/false, std::chrono::milliseconds(0)));
        RT_RETURN_IF_ERROR(drain_events());
        // A connection found broken: what the server sent before it went (its last replies,
        // queued before the event) is read below, as from any socket whose break is not said
        // yet, before the break is said.
        read_on = links_[i].loss_unsaid;
      } else {
        const Status decoded = transport::DecodeMessage(std::span(frames), &reply_);
        frames.clear();
        if (!decoded.ok()) {
          return DataLoss("malformed reply from parameter server " + std::to_string(i) + ": " +
                          decoded.message());
        }
        const uint64_t incarnation = reply_.header.incarnation();
        if (incarnation == 0 || incarnation != incarnations_[i]) {
          // Perhaps a server that came back: its HANDSHAKE_SUCCEEDED event is queued before
          // its first reply, and the rejoin it causes drops the requests this reply answers.
          // (A reply from the process that answered before needs no look: what a break and
          // a reconnection to the same process lost is sent again by the rejoin they cause.)
          RT_RETURN_IF_ERROR(PollSignals(/*sockets=*/false, std::chrono::milliseconds(0)));
          RT_RETURN_IF_ERROR(drain_events());
          read_on = links_[i].loss_unsaid;  // gone again: the rest is read before that is said
        }
        incarnations_[i] = incarnation;
        const Status handled = HandleReply(only, reply_, pending, params, version_out, stats_out);
        reply_.ReleaseFrames();
        RT_RETURN_IF_ERROR(handled);
      }
      if (!read_on) {
        if (options_.detours) RT_RETURN_IF_ERROR(DetourLost(pending));
        continue;
      }
    }
    // Sleeps only when every socket and monitor has been read to the end (their signals then
    // announce whatever comes next); otherwise reads first.
    // The wait looks at the monitors too; a pass that does not wait looks at them (below)
    // before it handles a reply.
    bool monitors_seen = read_on;  // looked at just now, above
    if (std::none_of(links_.begin(), links_.end(),
                     [](const Link& l) { return l.replies_unread || l.events_unread; }) &&
        std::none_of(direct_.begin(), direct_.end(), [](const Direct& d) { return d.readable; })) {
      RT_RETURN_IF_ERROR(PollSignals(/*sockets=*/true, left));
      monitors_seen = true;
    }
    RT_RETURN_IF_ERROR(drain_events());
    // Direct links after the events, as the sockets. What is read on a link is taken only from
    // the process the server's socket answers from (Header.incarnation, ReadDirect): a link to
    // a server that came back is closed so, or by its rejoin, if the events said so first.
    for (size_t i = 0; i < n && pending->busy(); ++i) {
      if (direct_[i].readable) {
        RT_RETURN_IF_ERROR(
            ReadDirect(static_cast<int>(i), pending, params, version_out, stats_out));
      }
    }
    for (size_t i = 0; i < n && pending->busy(); ++i) {
      // A server's last replies are queued before its connection's DISCONNECTED event, but
      // the wait may have seen its monitor's signal before they came: a socket whose break is
      // not said yet is read anyway, so that those replies are not taken for a server that went
      // away owing them.
      if (!links_[i].replies_unread && !links_[i].loss_unsaid) continue;
      // Read to the end, or until the operation has all it waits for: what is left (a late
      // answer to an earlier operation) is read before the next one waits.
      while (pending->busy()) {
        bool received = false;
        RT_RETURN_IF_ERROR(transport::ReceiveMultipart(sockets_[i], &frames, &received));
        if (!received) {
          links_[i].replies_unread = false;
          break;
        }
        if (!monitors_seen) {
          // A reply read without a wait (it was queued already): a server that came back since
          // the monitors were last looked at has its HANDSHAKE_SUCCEEDED event queued before
          // its first reply, so one look now (one system call, in a pass that made none)
          // finds it, and the rejoin drops the requests that reply answers. (One look a pass,
          // as after a wait: a server that comes back while this pass handles another's
          // replies is found by the next pass, as zmq_poll's loop found it before.)
          monitors_seen = true;
          RT_RETURN_IF_ERROR(PollSignals(/*sockets=*/false, std::chrono::milliseconds(0)));
          RT_RETURN_IF_ERROR(drain_events());
        }
        const Status decoded = transport::DecodeMessage(std::span(frames), &reply_);
        frames.clear();
        if (!decoded.ok()) {
          return DataLoss("malformed reply from parameter server " + std::to_string(i) + ": " +
                          decoded.message());
        }
        const uint64_t incarnation = reply_.header.incarnation();
        if (incarnation == 0 || incarnation != incarnations_[i]) {
          // A process this socket has not answered from before, come back after this pass's
          // look (requests queued while it was away go to it on reconnection): its
          // HANDSHAKE_SUCCEEDED event is queued before this reply, as in the wait on one socket.
          RT_RETURN_IF_ERROR(PollSignals(/*sockets=*/false, std::chrono::milliseconds(0)));
          RT_RETURN_IF_ERROR(drain_events());
        }
        // The process that answers on this socket now (after its connection events): the one
        // a direct link's answers must come from.
        incarnations_[i] = incarnation;
        const Status handled =
            HandleReply(static_cast<int>(i), reply_, pending, params, version_out, stats_out);
        reply_.ReleaseFrames();
        RT_RETURN_IF_ERROR(handled);
      }
    }
    if (options_.detours) RT_RETURN_IF_ERROR(DetourLost(pending));
  }
  return Status::Ok();
}

int PsClient::SoleSocketWait(const Pending& pending) const {
  for (const auto& [server, waiting] : pending.resend) {
    if (!waiting.empty()) return -1;  // waits for a rejoin's answer to send them
  }
  int only = -1;
  for (const auto& [id, r] : pending.requests) {
    const int to = r.via >= 0 ? r.via : r.server;
    if (r.direct || (only >= 0 && to != only)) return -1;
    only = to;
  }
  if (only < 0) return -1;
  if (std::any_of(links_.begin(), links_.end(),
                  [](const Link& l) { return l.events_unread || l.loss_unsaid; }) ||
      std::any_of(direct_.begin(), direct_.end(),
                  [](const Direct& d) { return d.link != nullptr; })) {
    return -1;
  }
  return only;
}

Status PsClient::PollSignals(bool sockets, std::chrono::milliseconds timeout) {
  const size_t n = sockets_.size();
  const size_t first = sockets ? 0 : n;  // the monitors' fds follow the sockets'
  // The direct links' fds after the monitors', while the sockets are waited for.
  signal_fds_.resize(2 * n);
  direct_polled_.clear();
  if (sockets) {
    for (size_t i = 0; i < direct_.size(); ++i) {
      const transport::StreamLink* link = direct_[i].link.get();
      if (link == nullptr) continue;
      const short events = static_cast<short>(POLLIN | (link->wants_write() ? POLLOUT : 0));
      signal_fds_.push_back({link->fd(), events, 0});
      direct_polled_.push_back(static_cast<int>(i));
    }
  }
  for (size_t i = first; i < signal_fds_.size(); ++i) signal_fds_[i].revents = 0;
  const int ms = static_cast<int>(std::min<int64_t>(timeout.count(), INT32_MAX));
  if (::poll(signal_fds_.data() + first, signal_fds_.size() - first, ms) < 0) {
    if (errno == EINTR) return Status::Ok();
    return Unavailable(std::string("poll failed: ") + std::strerror(errno));
  }
  links_looked_at_ = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; ++i) {
    if (sockets && signal_fds_[i].revents != 0) links_[i].replies_unread = true;
    if (signal_fds_[n + i].revents != 0) links_[i].events_unread = true;
  }
  for (size_t k = 0; k < direct_polled_.size(); ++k) {
    const short revents = signal_fds_[2 * n + k].revents;
    Direct& d = direct_[static_cast<size_t>(direct_polled_[k])];
    if ((revents & POLLOUT) != 0 && !d.link->Flush().ok()) {
      d.flush_failed = true;  // closed by the next read (ReadDirect)
      d.readable = true;
    }
    if ((revents & (POLLIN | POLLERR | POLLHUP)) != 0) d.readable = true;
  }
  return Status::Ok();
}

}  // namespace ringtrain::worker
