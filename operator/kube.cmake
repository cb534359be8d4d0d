# The operator's Kubernetes REST client (ringtrain::op::kube) over cpprestsdk (Debian package
# libcpprest-dev). Included at the end of operator/CMakeLists.txt; paths are relative to it.
find_package(cpprestsdk REQUIRED)
find_package(OpenSSL REQUIRED)
target_sources(ringtrain_operator PRIVATE
  src/kube/api_status.cc
  src/kube/base64.cc
  src/kube/kubeconfig.cc
  src/kube/resource.cc
  src/kube/rest_client.cc
  src/kube/rest_watch.cc
  src/kube/url.cc
  src/kube/watch_event.cc)
# cpprestsdk stays out of the public headers, so callers do not compile against it.
target_link_libraries(ringtrain_operator PRIVATE cpprestsdk::cpprest OpenSSL::SSL OpenSSL::Crypto
                                                 yaml-cpp)
if(RINGTRAIN_SANITIZE MATCHES "undefined")
  # UBSan's vptr check misfires on cpprestsdk's stream templates (e.g. basic_container_buffer
  # objects built inside libcpprest.so, whose type_info chain differs from the copy instantiated
  # here): "member call ... does not point to an object of type 'basic_streambuf'" on every
  # request with a body. Everything else of UBSan stays on for these files.
  set_source_files_properties(src/kube/rest_client.cc src/kube/rest_watch.cc
                              PROPERTIES COMPILE_OPTIONS -fno-sanitize=vptr)
endif()
