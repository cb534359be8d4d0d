# The operator's reconcile loop: informers (list + watch caches) and the controller that feeds
# the planner and executor from them. Included from operator/CMakeLists.txt.
target_sources(ringtrain_operator PRIVATE
  src/controller.cc
  src/informer.cc)

# The process: configuration, HTTP probes and metrics, leader election, the controller.
target_sources(ringtrain_operator PRIVATE
  src/app.cc
  src/operator_metrics.cc)

add_executable(ringtrain-operator cmd/main.cc)
target_link_libraries(ringtrain-operator PRIVATE ringtrain::operator CLI11::CLI11)
ringtrain_warnings(ringtrain-operator)
target_compile_definitions(ringtrain-operator PRIVATE RINGTRAIN_VERSION="${PROJECT_VERSION}")

# Progress, pulled from worker 0's status socket over ZeroMQ (the wire messages of
# ringtrain::proto; nothing else of the runtime).
target_sources(ringtrain_operator PRIVATE src/zmq_progress_source.cc)
target_link_libraries(ringtrain_operator PRIVATE ringtrain::proto cppzmq)
