// A scripted HTTP/1.1 server on 127.0.0.1 (plain TCP, port chosen by the kernel) for testing
// RestClient's handling of what a real API server rarely does on demand: garbage in a watch
// stream, silence, error bodies that are not JSON, a server that never answers.
//
// Each connection is served on its own thread; requests on a connection are handled in order
// (keep-alive). The handler writes the raw response through the Exchange. Every request is
// recorded. The destructor closes all sockets and joins the threads.
#ifndef RINGTRAIN_TESTS_INTEGRATION_OPERATOR_KUBE_FAKE_API_SERVER_H_
#define RINGTRAIN_TESTS_INTEGRATION_OPERATOR_KUBE_FAKE_API_SERVER_H_

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ringtrain::testing {

struct RecordedRequest {
  std::string method;
  std::string target;                          // path and query as sent
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class FakeApiServer {
 public:
  // The handler's view of one request; its methods write to the connection.
  class Exchange {
   public:
    explicit Exchange(int fd) : fd_(fd) {}
    // A complete response with Content-Length.
    void Respond(int status, const std::string& body,
                 const std::string& content_type = "application/json");
    // Chunked responses: the header, chunks, and the terminating zero chunk.
    void StartChunked(int status = 200);
    void Chunk(const std::string& data);
    void EndChunked();
    // Blocks until the client closes the connection (or the server shuts down).
    void WaitForClientClose();
    // Once the handler returns, the server closes this connection without saying so in the
    // response, as a restarting API server does to its idle keep-alive connections: with a
    // FIN (`reset` false) or a RST (`reset` true).
    void CloseAfterwards(bool reset) {
      close_ = true;
      reset_ = reset;
    }

   private:
    friend class FakeApiServer;
    void Write(const std::string& data);
    int fd_;
    bool close_ = false;
    bool reset_ = false;
  };

  using Handler = std::function<void(const RecordedRequest&, Exchange&)>;

  explicit FakeApiServer(Handler handler);
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<RecordedRequest> requests() const;

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<RecordedRequest> requests_;  // guarded by mu_
  std::vector<int> client_fds_;            // guarded by mu_
  std::vector<std::thread> threads_;       // guarded by mu_
  std::thread accept_thread_;
};

}  // namespace ringtrain::testing

#endif  // RINGTRAIN_TESTS_INTEGRATION_OPERATOR_KUBE_FAKE_API_SERVER_H_
