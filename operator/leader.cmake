# The operator's leader election over a coordination.k8s.io/v1 Lease. Included at the end of
# operator/CMakeLists.txt; paths are relative to it.
target_sources(ringtrain_operator PRIVATE src/leader_election.cc)
