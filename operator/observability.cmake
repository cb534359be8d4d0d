# The operator's observability surface: Prometheus metrics registry, HTTP server (over
# cpprestsdk's http_listener, linked privately in kube.cmake) and the /healthz, /readyz and
# /metrics routes. Included at the end of operator/CMakeLists.txt, after kube.cmake; paths are
# relative to operator/.
target_sources(ringtrain_operator PRIVATE
  src/health.cc
  src/http_server.cc
  src/metrics.cc
  src/prometheus_text.cc)
if(RINGTRAIN_SANITIZE MATCHES "undefined")
  # The same UBSan vptr false positive on cpprestsdk's stream templates as in kube.cmake
  # (response bodies are container streams built here and read inside libcpprest.so).
  set_source_files_properties(src/http_server.cc PROPERTIES COMPILE_OPTIONS -fno-sanitize=vptr)
endif()
