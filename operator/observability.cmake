# The operator's observability surface: Prometheus metrics registry, HTTP server (over GNU
# libmicrohttpd, Debian package libmicrohttpd-dev, linked privately) and the /healthz, /readyz
# and /metrics routes. Included at the end of operator/CMakeLists.txt; paths are relative to
# operator/.
find_package(PkgConfig REQUIRED)
pkg_check_modules(MICROHTTPD REQUIRED IMPORTED_TARGET libmicrohttpd)
target_sources(ringtrain_operator PRIVATE
  src/health.cc
  src/http_server.cc
  src/metrics.cc
  src/prometheus_text.cc)
target_link_libraries(ringtrain_operator PRIVATE PkgConfig::MICROHTTPD)
